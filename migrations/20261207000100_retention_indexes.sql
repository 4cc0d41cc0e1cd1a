-- The retention job (app::retention) deletes rows older than a cut-off every hour: these let
-- it find them without reading the whole table. The other purged tables have such an index
-- already (bot_updates, admin_login_failures, admin_sessions, vk_id_pending), and
-- unrouted_destinations holds one row per destination.
CREATE INDEX notification_deliveries_settled_idx ON notification_deliveries (settled_at);
CREATE INDEX deliveries_without_effect_recorded_idx ON deliveries_without_effect (recorded_at);
CREATE INDEX link_codes_expires_idx ON link_codes (expires_at);
CREATE INDEX subscription_checks_checked_idx ON subscription_checks (checked_at);
