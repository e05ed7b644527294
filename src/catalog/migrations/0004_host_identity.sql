-- Schema 4: what tells one machine from another that reports the same hostname. A host is
-- filed under the name it reports; a scan that reaches a machine with another machine id or
-- SSH host key than the one on file under that name is refused, not merged into it.
ALTER TABLE hosts ADD COLUMN machine_id TEXT;
ALTER TABLE hosts ADD COLUMN host_key TEXT;           -- SHA256:… of the SSH host key
