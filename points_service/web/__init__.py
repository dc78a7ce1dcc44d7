"""What the server-rendered pages (the merchant page, the staff console) share: the signed-in session."""
