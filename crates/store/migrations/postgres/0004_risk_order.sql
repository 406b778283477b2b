-- The register's default order (highest residual score, then most recently
-- updated) walks this index, so its first page reads 50 rows rather than
-- sorting every risk.
CREATE INDEX risks_by_score ON risks(org_id, residual_score DESC, updated_at DESC, id DESC);

-- Every fact the risk threshold reads, so a policy change groups and
-- updates risks from this index without reading the rows themselves.
CREATE INDEX risks_threshold_facts ON risks(org_id, residual_score, status, residual_level, above_threshold, worst_finding, threshold_reason, vendor_id);
