"""What an operator watches: Prometheus metrics at /metrics, structured logs, a request id per request."""
