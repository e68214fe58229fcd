"""The bulk pg_catalog queries behind :func:`harness.schema.reflect.reflect_schema`.

Each query covers every relation of the requested schemas at once: the number of queries is
fixed, whatever the number of tables. Extension-owned objects and partitions are left out.
"""

from __future__ import annotations

# The schemas compared: those named, or (``all``) every schema but the system ones; never an
# excluded one. ``n`` is the object's pg_namespace row.
SCHEMA_FILTER = """((%(all)s AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%')
     OR n.nspname = ANY(%(schemas)s))
    AND NOT n.nspname = ANY(%(exclude)s)"""

NOT_EXTENSION = """NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = '{catalog}'::regclass AND dep.objid = {oid} AND dep.deptype = 'e')"""

COLUMNS = f"""
SELECT n.nspname, c.relname, c.relkind, a.attnum, a.attname,
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS dflt,
       a.attidentity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
       CASE WHEN t.typtype = 'e' THEN tn.nspname
            WHEN et.typtype = 'e' THEN etn.nspname END AS enum_schema,
       CASE WHEN t.typtype = 'e' THEN t.typname
            WHEN et.typtype = 'e' THEN et.typname END AS enum_name,
       pn.nspname AS parent_schema, pc.relname AS parent_name,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN co.collname END AS collation
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_inherits ih ON ih.inhrelid = c.oid AND c.relispartition
LEFT JOIN pg_class pc ON pc.oid = ih.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
WHERE {SCHEMA_FILTER}
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND {NOT_EXTENSION.format(catalog="pg_class", oid="c.oid")}
ORDER BY n.nspname, c.relname, a.attnum
"""

CONSTRAINTS = f"""
SELECT n.nspname, c.relname, con.conname, con.contype, con.conkey::int2[],
       fn.nspname AS ref_schema, fc.relname AS ref_table,
       CASE WHEN con.contype = 'f' THEN ARRAY(
           SELECT fa.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.attnum
           ORDER BY k.ord) END AS ref_columns,
       con.confupdtype, con.confdeltype,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid, true) END AS expr,
       CASE WHEN con.contype = 'x' THEN pg_get_constraintdef(con.oid, true) END AS definition,
       con.condeferrable, con.condeferred
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE {SCHEMA_FILTER}
  AND con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND con.conparentid = 0 AND (con.conislocal OR NOT c.relispartition)
ORDER BY n.nspname, c.relname, con.conname
"""

INDEXES = f"""
SELECT n.nspname, c.relname, ic.relname AS index_name, i.indisunique, am.amname,
       i.indnkeyatts, i.indkey::int2[], i.indoption::int2[],
       CASE WHEN i.indexprs IS NOT NULL THEN ARRAY(
           SELECT CASE WHEN i.indkey[k - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k, true) END
           FROM generate_series(1, i.indnatts) AS k ORDER BY k) END AS expressions,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       EXISTS (SELECT 1 FROM pg_constraint con
               WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                 AND con.contype IN ('p', 'u', 'x')) AS backs_constraint
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE {SCHEMA_FILTER}
  -- a partition's copy of its parent's index is the parent's index, compared there
  AND NOT EXISTS (SELECT 1 FROM pg_inherits pi WHERE pi.inhrelid = i.indexrelid)
ORDER BY n.nspname, c.relname, ic.relname
"""

ENUMS = """
SELECT n.nspname, t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
GROUP BY n.nspname, t.typname
ORDER BY n.nspname, t.typname
"""

SEQUENCES = f"""
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcycle,
       CASE WHEN d.refobjid IS NOT NULL
            THEN tn.nspname || '.' || tc.relname || '.' || ta.attname END AS owned_by,
       d.deptype
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class tc ON tc.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
WHERE {SCHEMA_FILTER}
  AND {NOT_EXTENSION.format(catalog="pg_class", oid="c.oid")}
ORDER BY n.nspname, c.relname
"""

VIEWS = f"""
SELECT n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid, true)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {SCHEMA_FILTER} AND c.relkind IN ('v', 'm')
  AND {NOT_EXTENSION.format(catalog="pg_class", oid="c.oid")}
ORDER BY n.nspname, c.relname
"""

FUNCTIONS = f"""
SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind,
       l.lanname, pg_get_function_result(p.oid),
       CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE p.prosrc END
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE {SCHEMA_FILTER}
  AND {NOT_EXTENSION.format(catalog="pg_proc", oid="p.oid")}
ORDER BY n.nspname, p.proname, 3
"""

SCHEMAS = f"""
SELECT n.nspname FROM pg_namespace n
WHERE {SCHEMA_FILTER}
  AND {NOT_EXTENSION.format(catalog="pg_namespace", oid="n.oid")}
ORDER BY n.nspname
"""

EXTENSIONS = """
SELECT e.extname, e.extversion, n.nspname FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY e.extname
"""

TRIGGERS = f"""
SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid, true), t.tgenabled
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {SCHEMA_FILTER} AND NOT t.tgisinternal AND t.tgparentid = 0
ORDER BY n.nspname, c.relname, t.tgname
"""
