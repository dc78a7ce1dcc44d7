"""Staff API and console: org tree and members, rules, awards and adjustments (later: approvals,
leaderboards, evaluations, warnings, imports and exports)."""
