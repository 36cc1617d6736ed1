-- The PostgreSQL replay guard's table (src/notify/postgres.rs): one row per notification id,
-- claimed by one delivery's token until its lease ends, or handled until its TTL ends. A row past
-- `expires_at` counts as absent; `purge()` deletes such rows.
-- Safe to run again: it creates only what is missing.
CREATE TABLE IF NOT EXISTS wechatpay_notify_claims (
    id         text        PRIMARY KEY,
    token      text        NOT NULL,
    handled    boolean     NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS wechatpay_notify_claims_expires_at ON wechatpay_notify_claims (expires_at);
