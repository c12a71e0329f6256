"""Indexes behind search at scale (docs/performance.md).

- `given_name`: a two-character given name ("小明") finds 王小明 by prefix.
- a lead's `company_name`, searched by prefix like a customer's.
- PostgreSQL only: pg_trgm GIN indexes on UPPER(name) and UPPER(company_name), the expression Django's
  `icontains` compares, so "contains" (three characters or more) is an index scan instead of a full
  scan. SQLite has no equivalent the planner would use for LIKE '%x%'; at the sizes SQLite serves the
  scan is measured and acceptable (see docs/performance.md).
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {
    "customer_name_trgm": ("customers_customer", "name"),
    "customer_company_trgm": ("customers_customer", "company_name"),
    "lead_name_trgm": ("customers_lead", "name"),
    "lead_company_trgm": ("customers_lead", "company_name"),
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_historicalpool"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="given_name",
            field=models.CharField(blank=True, db_index=True, max_length=100, verbose_name="given name"),
        ),
        migrations.AlterField(
            model_name="historicalcustomer",
            name="given_name",
            field=models.CharField(blank=True, db_index=True, max_length=100, verbose_name="given name"),
        ),
        migrations.AlterField(
            model_name="lead",
            name="company_name",
            field=models.CharField(blank=True, db_index=True, max_length=200, verbose_name="company"),
        ),
        migrations.AlterField(
            model_name="historicallead",
            name="company_name",
            field=models.CharField(blank=True, db_index=True, max_length=200, verbose_name="company"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
