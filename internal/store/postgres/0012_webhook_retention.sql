-- Retention of outgoing webhooks: finished deliveries are swept by age, and
-- then the events no delivery refers to any more. These indexes keep both
-- sweeps (and a redelivery's look-up) off full scans.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE state IN ('delivered', 'failed');
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX webhook_events_created ON webhook_events (created_at);
