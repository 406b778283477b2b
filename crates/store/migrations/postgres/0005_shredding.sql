-- Crypto-shredding: set when a vendor's KEK was destroyed. The evidence
-- rows stay (what existed, who uploaded it, when) but their files can no
-- longer be decrypted by anyone.
ALTER TABLE vendors ADD COLUMN data_shredded_at TEXT;
ALTER TABLE evidence ADD COLUMN shredded_at TEXT;
