"""Posts and shifts (岗位, 值守): claiming a post, scheduled shifts, check-in and check-out, duty points."""
