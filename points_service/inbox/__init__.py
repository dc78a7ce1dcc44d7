"""The member's messages (消息): notices the service writes in the transaction of what causes them."""
