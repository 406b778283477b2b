-- Mamori foundation schema (SQLite). Must define the same tables and columns
-- as ../postgres/0001_foundation.sql; a test compares the two.
-- Timestamps are UTC RFC 3339 text ("2026-12-03T16:00:00.000000Z") on both
-- backends so they sort and compare the same way; ids are UUID text.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    locale TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE policies (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    version TEXT NOT NULL,
    content TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    applied_by TEXT,
    vendors_retiered BIGINT NOT NULL DEFAULT 0,
    tier_changes BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX policies_org ON policies(org_id, applied_at);

CREATE TABLE vendors (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    matching_key TEXT NOT NULL,
    external_id TEXT,
    legal_name TEXT NOT NULL,
    sort_name TEXT NOT NULL,
    search_text TEXT NOT NULL,
    aliases TEXT NOT NULL,
    domains TEXT NOT NULL,
    vendor_type TEXT NOT NULL,
    deployment TEXT NOT NULL,
    tenancy TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    owner_email TEXT NOT NULL,
    owner_name TEXT,
    notes TEXT,
    data_classes TEXT NOT NULL,
    tier TEXT NOT NULL,
    tier_rank BIGINT NOT NULL,
    score_cybersecurity BIGINT NOT NULL,
    score_reputational BIGINT NOT NULL,
    score_compliance BIGINT NOT NULL,
    score_privacy BIGINT NOT NULL,
    score_operational BIGINT NOT NULL,
    score_strategic BIGINT NOT NULL,
    score_financial BIGINT NOT NULL,
    score_max BIGINT NOT NULL,
    policy_version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org_id, matching_key)
);
CREATE INDEX vendors_org_name ON vendors(org_id, sort_name);
-- Serves the default "highest risk first" order without sorting every row.
CREATE INDEX vendors_org_tier ON vendors(org_id, tier_rank DESC, score_max DESC);
CREATE INDEX vendors_org_owner ON vendors(org_id, owner_email);

CREATE TABLE services (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    max_downtime_hours BIGINT,
    business_processes TEXT NOT NULL,
    patient_care_impact BOOLEAN NOT NULL,
    patients_affected BIGINT,
    records_affected BIGINT,
    revenue_dependency TEXT NOT NULL
);
CREATE INDEX services_vendor ON services(vendor_id, position);

CREATE TABLE data_flows (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    data_class TEXT NOT NULL,
    actions TEXT NOT NULL,
    record_count BIGINT NOT NULL,
    locations TEXT NOT NULL,
    connectivity TEXT NOT NULL,
    subprocessors TEXT NOT NULL
);
CREATE INDEX data_flows_vendor ON data_flows(vendor_id, position);

CREATE TABLE tier_changes (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    from_tier TEXT,
    to_tier TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    cause TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX tier_changes_vendor ON tier_changes(vendor_id, changed_at);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    at TEXT NOT NULL,
    actor_id TEXT,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT,
    summary TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_log_org_at ON audit_log(org_id, at);
