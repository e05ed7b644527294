-- Schema 3: facts by name, for host-where ("which hosts have kernel < 6.1"): it reads one
-- fact's current values across the fleet, and its history, without scanning every host's facts.
CREATE INDEX host_facts_name ON host_facts(name, current, host_id);
