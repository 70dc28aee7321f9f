-- A tenant's received documents newest first (GET /v1/received, the console's Received
-- screen: gateway/store/received.py) walk this index instead of every tenant's messages.

CREATE INDEX inbound_by_tenant_time ON inbound_messages (tenant_id, received_at);
