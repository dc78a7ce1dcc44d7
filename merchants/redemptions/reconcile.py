"""What `points-service reconcile` proves about redemptions: each one's ledger transactions match its
status, and the held and merchant accounts equal the redemptions that explain them. Contributed to the
ledger's own checks by the merchants plugin."""

from __future__ import annotations

from points_service.ledger.reconcile import SqlCheck


def _balance_equals_redemptions(name: str, account_kind: str, owner: str, status: str) -> SqlCheck:
    """The accounts of `account_kind` of each owner hold exactly the points of its redemptions in
    `status`: what a member has on hold is what they are waiting to collect, what a merchant holds
    (over all its stripes) is what it handed over. The names put in the SQL are this module's own
    constants, never a caller's input."""
    return SqlCheck(
        name,
        f"SELECT count(DISTINCT {owner}) FROM ledger_accounts WHERE kind = '{account_kind}' AND {{tenant}}",  # noqa: S608
        f"""SELECT a.tenant_id, a.{owner}, a.balance, coalesce(r.points, 0)
              FROM (SELECT tenant_id, {owner}, sum(balance) AS balance
                      FROM ledger_accounts
                     WHERE kind = '{account_kind}' AND {{tenant}}
                     GROUP BY tenant_id, {owner}) a
              LEFT JOIN (SELECT tenant_id, {owner}, sum(points) AS points
                           FROM redemptions
                          WHERE status = '{status}' AND {{tenant}}
                          GROUP BY tenant_id, {owner}) r
                ON r.tenant_id = a.tenant_id AND r.{owner} = a.{owner}
             WHERE a.balance <> coalesce(r.points, 0)""",  # noqa: S608
    )


REDEMPTION_CHECKS: tuple[SqlCheck, ...] = (
    SqlCheck(
        "each redemption's transactions match its status",
        "SELECT count(*) FROM redemptions WHERE {tenant}",
        """SELECT r.tenant_id, r.id, r.status, h.kind, s.kind
             FROM redemptions r
             JOIN ledger_transactions h ON h.tenant_id = r.tenant_id AND h.id = r.hold_transaction_id
             LEFT JOIN ledger_transactions s ON s.tenant_id = r.tenant_id AND s.id = r.settle_transaction_id
            WHERE r.{tenant}
              AND (h.kind <> 'redemption_hold' OR h.member_id <> r.member_id
                   OR (r.status = 'pending') <> (s.id IS NULL)
                   OR (r.status = 'fulfilled' AND s.kind <> 'redemption_fulfil')
                   OR (r.status IN ('cancelled', 'expired') AND s.kind <> 'redemption_release'))""",
    ),
    _balance_equals_redemptions(
        "held points equal the member's pending redemptions", "member_held", "member_id", "pending"
    ),
    _balance_equals_redemptions(
        "a merchant's balance equals its fulfilled redemptions", "merchant", "merchant_id", "fulfilled"
    ),
    SqlCheck(
        "every redemption transaction belongs to one redemption",
        "SELECT count(*) FROM ledger_transactions WHERE kind LIKE 'redemption_%' AND {tenant}",
        """SELECT t.tenant_id, t.id, t.kind, count(r.id)
             FROM ledger_transactions t
             LEFT JOIN redemptions r ON r.tenant_id = t.tenant_id
                  AND (r.hold_transaction_id = t.id OR r.settle_transaction_id = t.id)
            WHERE t.kind LIKE 'redemption_%' AND t.{tenant}
            GROUP BY t.tenant_id, t.id, t.kind
           HAVING count(r.id) <> 1""",
    ),
)
