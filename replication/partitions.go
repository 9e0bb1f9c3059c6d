package replication

// PartitionAncestorsSQL lists each partition (schema, name) with each of
// its partitioned ancestors (schema, name), one row per pair, anc.level
// counting from 1 at the parent. Callers append their ORDER BY or UNION.
const PartitionAncestorsSQL = `
WITH RECURSIVE anc(rel, parent, level) AS (
	SELECT i.inhrelid, i.inhparent, 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relispartition
	UNION ALL
	SELECT a.rel, i.inhparent, a.level + 1 FROM anc a
	JOIN pg_inherits i ON i.inhrelid = a.parent JOIN pg_class c ON c.oid = a.parent WHERE c.relispartition
)
SELECT rn.nspname::text, r.relname::text, pn.nspname::text, p.relname::text
FROM anc JOIN pg_class r ON r.oid = anc.rel JOIN pg_namespace rn ON rn.oid = r.relnamespace
JOIN pg_class p ON p.oid = anc.parent JOIN pg_namespace pn ON pn.oid = p.relnamespace`
