-- The webhook outbox is pruned by age (DeleteWebhookHistoryBefore): the
-- messages and notices by their creation time, through these indexes.
CREATE INDEX webhook_messages_by_created ON webhook_messages (created_at);
CREATE INDEX webhook_notices_by_created ON webhook_notices (created_at);
