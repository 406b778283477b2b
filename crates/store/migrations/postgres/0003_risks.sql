-- Findings now also come from contracts (and later from monitoring), so the
-- assessment becomes optional.
ALTER TABLE findings ALTER COLUMN assessment_id DROP NOT NULL;
ALTER TABLE findings ADD COLUMN source TEXT NOT NULL DEFAULT 'assessment';
ALTER TABLE findings ADD COLUMN source_ref TEXT;
ALTER TABLE findings ADD COLUMN cvss_vector TEXT;
CREATE INDEX findings_source ON findings(source, source_ref);

-- The risk register: risks scored on the policy's matrix, the findings that
-- evidence them, their history, accountable acceptances (immutable), the
-- risk policies applied, corrective action plans sent to vendors through the
-- portal, and contracts with their clause checklists.

CREATE TABLE risk_policies (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    version TEXT NOT NULL,
    content TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    applied_by TEXT,
    risks_evaluated BIGINT NOT NULL DEFAULT 0,
    threshold_changes BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX risk_policies_org ON risk_policies(org_id, applied_at);

CREATE TABLE risks (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    service_id TEXT REFERENCES services(id) ON DELETE SET NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    inherent_likelihood BIGINT NOT NULL,
    inherent_impact BIGINT NOT NULL,
    existing_controls TEXT NOT NULL DEFAULT '',
    residual_likelihood BIGINT NOT NULL,
    residual_impact BIGINT NOT NULL,
    residual_score BIGINT NOT NULL,
    residual_level TEXT NOT NULL,
    -- undecided | mitigate | transfer | avoid | accept
    treatment TEXT NOT NULL,
    -- open | in_treatment | accepted | closed
    status TEXT NOT NULL,
    due_on TEXT,
    compensating_control TEXT,
    -- Worst severity among the open findings linked to the risk, kept here
    -- so a policy change re-evaluates thresholds without joining findings.
    worst_finding TEXT,
    above_threshold BIGINT NOT NULL DEFAULT 0,
    threshold_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX risks_vendor ON risks(vendor_id, status);
-- Covering index for the heat map: counts per cell read index entries only.
CREATE INDEX risks_heatmap ON risks(org_id, status, residual_likelihood, residual_impact, category, vendor_id, owner_id);
CREATE INDEX risks_threshold ON risks(org_id, above_threshold, status);

CREATE TABLE risk_findings (
    risk_id TEXT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    finding_id TEXT NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    PRIMARY KEY (risk_id, finding_id)
);
CREATE INDEX risk_findings_finding ON risk_findings(finding_id);

-- Every change to a risk, with before and after.
CREATE TABLE risk_events (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    risk_id TEXT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    summary TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX risk_events_risk ON risk_events(risk_id, at);

-- Acceptances are never changed: a new decision is a new row.
CREATE TABLE risk_acceptances (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    risk_id TEXT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    accepted_by_id TEXT,
    accepted_by TEXT NOT NULL,
    accepted_as TEXT NOT NULL,
    residual_level TEXT NOT NULL,
    residual_score BIGINT NOT NULL,
    above_threshold BIGINT NOT NULL,
    justification TEXT NOT NULL,
    compensating_controls TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX risk_acceptances_risk ON risk_acceptances(risk_id, created_at);
CREATE INDEX risk_acceptances_expiry ON risk_acceptances(org_id, expires_on);

-- Corrective action plans: a risk-ordered list of actions sent to a vendor.
CREATE TABLE remediation_requests (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    -- open | closed
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX remediation_requests_vendor ON remediation_requests(vendor_id, created_at);

CREATE TABLE remediation_items (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    request_id TEXT NOT NULL REFERENCES remediation_requests(id) ON DELETE CASCADE,
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    risk_id TEXT REFERENCES risks(id) ON DELETE SET NULL,
    position BIGINT NOT NULL,
    action TEXT NOT NULL,
    severity TEXT NOT NULL,
    due_on TEXT NOT NULL,
    -- requested | planned | claimed_done | disputed | verified | reopened
    status TEXT NOT NULL,
    response_text TEXT,
    planned_on TEXT,
    response_evidence_id TEXT REFERENCES evidence(id) ON DELETE SET NULL,
    responded_at TEXT,
    verified_by TEXT,
    verified_at TEXT,
    verifier_comment TEXT
);
CREATE INDEX remediation_items_request ON remediation_items(request_id, position);
CREATE INDEX remediation_items_due ON remediation_items(org_id, status, due_on);

CREATE TABLE remediation_links (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES remediation_requests(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    contact_name TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX remediation_links_request ON remediation_links(request_id);

CREATE TABLE contracts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    starts_on TEXT,
    ends_on TEXT,
    renewal_notice_days BIGINT NOT NULL DEFAULT 90,
    value_minor BIGINT,
    currency TEXT,
    owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    -- Comma-separated ids of the vendor's services the contract covers.
    service_ids TEXT NOT NULL DEFAULT '',
    document_evidence_id TEXT REFERENCES evidence(id) ON DELETE SET NULL,
    clause_catalog_version TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX contracts_vendor ON contracts(vendor_id);
CREATE INDEX contracts_end ON contracts(org_id, ends_on);

CREATE TABLE contract_clauses (
    contract_id TEXT NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
    clause_key TEXT NOT NULL,
    -- present | partial | absent | unknown
    state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    reference TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (contract_id, clause_key)
);

CREATE FUNCTION risk_acceptances_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'risk acceptances are immutable: record a new decision instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER risk_acceptances_immutable BEFORE UPDATE ON risk_acceptances
    FOR EACH ROW EXECUTE FUNCTION risk_acceptances_immutable();
