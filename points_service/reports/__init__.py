"""Problem reports (民情上报): filed by members, accepted, escalated up the org tree, resolved."""
