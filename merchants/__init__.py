"""Partner merchants, their rewards, redemptions at the counter, and the merchant web page.

The ledger already knows merchant accounts (`points_service.ledger.models.LOCKED_ACCOUNT_KINDS`);
the redemption flow that moves points member -> hold -> merchant is the marketplace issue's work.
"""
