-- Assessments: frameworks, questionnaire templates, assessments with their
-- answers, vendor-portal links, evidence files and findings.

CREATE TABLE frameworks (
    id TEXT PRIMARY KEY,
    framework_key TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    source TEXT NOT NULL,
    element_count BIGINT NOT NULL,
    elements_json TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (framework_key, version)
);

CREATE TABLE framework_mappings (
    source_framework TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_framework TEXT NOT NULL,
    target_id TEXT NOT NULL,
    relationship TEXT NOT NULL,
    PRIMARY KEY (source_framework, source_id, target_framework, target_id)
);

CREATE TABLE questionnaire_templates (
    id TEXT PRIMARY KEY,
    template_key TEXT NOT NULL,
    version TEXT NOT NULL,
    title TEXT NOT NULL,
    origin TEXT NOT NULL,
    question_count BIGINT NOT NULL,
    content_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (template_key, version)
);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    template_id TEXT NOT NULL REFERENCES questionnaire_templates(id),
    status TEXT NOT NULL,
    tier TEXT NOT NULL,
    title TEXT NOT NULL,
    respond_by TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    submitted_at TEXT,
    completed_at TEXT,
    completed_by TEXT,
    updated_at TEXT NOT NULL,
    score BIGINT,
    score_earned BIGINT,
    score_possible BIGINT,
    function_scores TEXT NOT NULL DEFAULT '{}',
    answered BIGINT NOT NULL DEFAULT 0,
    visible BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX assessments_vendor ON assessments(vendor_id, created_at);
CREATE INDEX assessments_org_status ON assessments(org_id, status, updated_at);
CREATE INDEX assessments_completed ON assessments(org_id, status, completed_at);

CREATE TABLE assessment_answers (
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    comment TEXT,
    answered_by TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (assessment_id, question_id)
);

CREATE TABLE portal_links (
    id TEXT PRIMARY KEY,
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    contact_name TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX portal_links_assessment ON portal_links(assessment_id);

CREATE TABLE evidence (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    assessment_id TEXT REFERENCES assessments(id) ON DELETE SET NULL,
    question_id TEXT,
    kind TEXT NOT NULL,
    issuer TEXT NOT NULL,
    period_start TEXT,
    period_end TEXT,
    issued_on TEXT,
    expires_on TEXT,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX evidence_vendor ON evidence(vendor_id, uploaded_at);
CREATE INDEX evidence_assessment ON evidence(assessment_id);

CREATE TABLE findings (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    question_id TEXT,
    csf TEXT NOT NULL,
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    raised_severity TEXT,
    severity TEXT NOT NULL,
    origin TEXT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,
    reviewer_comment TEXT,
    decided_by TEXT,
    decided_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX findings_assessment ON findings(assessment_id);
CREATE INDEX findings_vendor_status ON findings(vendor_id, status);

ALTER TABLE vendors ADD COLUMN last_assessed_on TEXT;
ALTER TABLE vendors ADD COLUMN assessment_score BIGINT;
ALTER TABLE vendors ADD COLUMN open_findings BIGINT NOT NULL DEFAULT 0;
-- Open findings of the latest completed assessment by severity, kept with
-- the vendor so the dashboard sums 4 columns instead of joining findings.
ALTER TABLE vendors ADD COLUMN open_findings_critical BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vendors ADD COLUMN open_findings_high BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vendors ADD COLUMN open_findings_medium BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vendors ADD COLUMN open_findings_low BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vendors ADD COLUMN next_assessment_due TEXT;
CREATE INDEX vendors_next_due ON vendors(org_id, next_assessment_due);
-- Covering indexes for the dashboard: its aggregates read these columns
-- only, so they scan narrow index entries instead of whole vendor rows.
CREATE INDEX vendors_dashboard ON vendors(org_id, tier, status, score_cybersecurity, score_reputational,
    score_compliance, score_privacy, score_operational, score_strategic, score_financial, next_assessment_due,
    last_assessed_on, assessment_score, open_findings_critical, open_findings_high, open_findings_medium, open_findings_low);
