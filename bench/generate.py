"""A synthetic registry with realistic distributions, in PostgreSQL and in a SQLite copy.

Deterministic: every call is drawn from its own seeded generator (`random.Random(SEED, index)`),
so the first 1 000 calls of the 100 000-call registry are the 1 000-call registry, and the
registry can be grown in steps (1 000, then 10 000, then 100 000) with the same result as
one go. Dates are relative to the day of the run (statuses are derived from today's date).

Usage (standalone): `python -m bench.generate --size 100000` (creates and migrates the bench
databases, registry_bench on 127.0.0.1:5432 and bench/work/registry_bench.sqlite3).
"""
import argparse
import contextlib
import datetime
import math
import os
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("BENCH_WITH_SQLITE", "1")

SEED = 20261122
BATCH = 2000

THEMES = [
    ("bioproduction", "Bioproduction", "Biomanufacturing"),
    ("therapie-cellulaire", "Thérapie cellulaire", "Cell therapy"),
    ("therapie-genique", "Thérapie génique", "Gene therapy"),
    ("vaccins", "Vaccins", "Vaccines"),
    ("anticorps", "Anticorps", "Antibodies"),
    ("vesicules-extracellulaires", "Vésicules extracellulaires", "Extracellular vesicles"),
    ("organoides", "Organoïdes", "Organoids"),
    ("lignees-cellulaires", "Lignées cellulaires", "Cell lines"),
    ("formation-competences", "Formation et compétences", "Training and skills"),
    ("infrastructures", "Infrastructures et plateformes technologiques", "Infrastructure and technology platforms"),
    ("numerique-ia", "Numérique et intelligence artificielle", "Digital and artificial intelligence"),
    ("production-continue", "Production en continu", "Continuous manufacturing"),
    ("controle-qualite", "Contrôle qualité", "Quality control"),
    ("decarbonation", "Décarbonation", "Decarbonisation"),
    ("transfert-technologique", "Transfert de technologie", "Technology transfer"),
    ("entrepreneuriat-startups", "Création d'entreprises et start-up", "Entrepreneurship and start-ups"),
    ("relocalisation-modernisation", "Relocalisation et modernisation industrielle", "Reshoring and modernisation"),
    ("donnees-sante", "Données de santé", "Health data"),
    ("attractivite-internationale", "Attractivité internationale", "International attractiveness"),
    ("recherche-innovation", "Recherche et innovation", "Research and innovation"),
]
# Themes are not equally frequent: bioproduction and research first, niche topics last.
THEME_WEIGHTS = [30, 10, 12, 10, 9, 3, 3, 5, 10, 9, 6, 4, 5, 3, 5, 7, 6, 3, 3, 14]

REGION_CODES = ["01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84",
                "93", "94"]
REGION_NAMES = {
    "01": "Guadeloupe", "02": "Martinique", "03": "Guyane", "04": "La Réunion", "06": "Mayotte",
    "11": "Île-de-France", "24": "Centre-Val de Loire", "27": "Bourgogne-Franche-Comté", "28": "Normandie",
    "32": "Hauts-de-France", "44": "Grand Est", "52": "Pays de la Loire", "53": "Bretagne",
    "75": "Nouvelle-Aquitaine", "76": "Occitanie", "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur", "94": "Corse",
}
# Bioproduction is concentrated: Auvergne-Rhône-Alpes, Île-de-France, Centre, Occitanie lead.
REGION_WEIGHTS = [1, 1, 1, 1, 1, 14, 8, 4, 5, 5, 6, 5, 5, 6, 8, 16, 5, 1]

# Sector vocabulary: noun phrases that titles, summaries and descriptions are assembled from.
TOPICS = [
    "bioproduction", "thérapie génique", "thérapie cellulaire", "vecteurs viraux", "anticorps monoclonaux",
    "vaccins ARN", "ARN messager", "plateformes technologiques", "CDMO", "formation des opérateurs",
    "lignées cellulaires", "bioréacteurs à usage unique", "procédés en continu", "purification des protéines",
    "contrôle qualité", "biomédicaments", "biothérapies", "organoïdes", "vésicules extracellulaires",
    "jumeau numérique", "intelligence artificielle", "souveraineté sanitaire", "lots cliniques",
    "bonnes pratiques de fabrication", "milieux de culture", "consommables critiques", "montée en échelle",
    "industrialisation des procédés", "biosimilaires", "protéines recombinantes", "fermentation de précision",
    "plasmides", "vecteurs AAV", "lentivirus", "cellules CAR-T", "cellules souches", "analytique des procédés",
    "décarbonation des sites", "relocalisation de la production", "médicaments de thérapie innovante",
    "écosystèmes régionaux", "pôles de compétitivité", "transfert de technologie", "start-up deeptech",
    "compétences et métiers d'avenir", "données de santé", "capacités de production", "sous-traitance",
]
TOPIC_WEIGHTS = [math.exp(-k / 18) for k in range(len(TOPICS))]  # a few topics are common, many are rare

TITLE_PREFIXES = {
    "call_for_projects": ["Appel à projets", "AAP", "Appel à projets régional", "Appel à projets national"],
    "expression_of_interest": ["Appel à manifestation d'intérêt", "AMI"],
    "call_for_applications": ["Appel à candidatures", "Appel à candidatures « Accélérateur »"],
    "open_scheme": ["Dispositif", "Aide", "Programme d'accompagnement"],
    "prize": ["Prix", "Concours d'innovation", "Trophées"],
    "fund": ["Fonds", "Fonds d'investissement"],
    "tax_incentive": ["Crédit d'impôt", "Dispositif fiscal"],
}
CALL_TYPES = list(TITLE_PREFIXES)
CALL_TYPE_WEIGHTS = [50, 15, 10, 10, 5, 5, 5]

SENTENCES = [
    "Ce dispositif soutient les projets de {a} portés par des entreprises et des laboratoires.",
    "Les projets visent à accélérer {a} et à renforcer {b} sur le territoire.",
    "Une attention particulière est portée à {a}, en lien avec {b}.",
    "Sont éligibles les dépenses de {a} et les investissements liés à {b}.",
    "L'appel finance des démonstrateurs de {a} ainsi que des actions de formation sur {b}.",
    "Les consortiums associant une CDMO et un laboratoire académique sur {a} sont encouragés.",
    "Il s'inscrit dans la stratégie d'accélération biothérapies et bioproduction de France 2030.",
    "Les candidatures sont évaluées sur l'impact industriel, la maturité technologique et {a}.",
    "Le financement couvre jusqu'à 50 % des coûts pour les PME, et accompagne {a}.",
    "Les plateformes régionales de {a} peuvent candidater en partenariat avec des industriels.",
    "Objectif : sécuriser l'approvisionnement en {a} et développer {b}.",
    "Les lauréats bénéficient d'un accompagnement sur {a} et d'un accès aux plateformes de {b}.",
]

FUNDER_PLAN = [  # (kind, count, name patterns)
    ("state", 10, ["Ministère {n}", "Secrétariat général pour l'investissement {n}", "Direction générale {n}"]),
    ("state_agency", 25, ["Agence {n}", "Opérateur national {n}", "Institut {n}"]),
    ("regional_authority", 18, None),  # one per region
    ("local_authority", 55, ["Département {n}", "Métropole {n}", "Communauté d'agglomération {n}"]),
    ("european_union", 15, ["Commission européenne — {n}", "Entreprise commune {n}", "Programme européen {n}"]),
    ("public_bank", 10, ["Banque publique {n}", "Fonds régional de garantie {n}"]),
    ("competitiveness_cluster", 40, ["Pôle de compétitivité {n}", "Cluster {n}"]),
    ("private_fund", 50, ["Fonds {n} Capital", "{n} Ventures", "{n} Biotech Partners"]),
    ("foundation", 40, ["Fondation {n}", "Fonds de dotation {n}"]),
    ("association", 27, ["Association {n}", "Réseau {n}"]),
    ("foreign_public", 10, ["Agence fédérale {n}", "Conseil national {n}"]),
]
SYLLABLES = ["bio", "gen", "cell", "vax", "thera", "pro", "med", "lyon", "atl", "nova", "sud", "nord", "alp",
             "océa", "vita", "cyto", "immu", "lum", "terra", "axi"]

FUNDER_ROLES = ["co_funder", "operator", "animator"]
BENEFICIARIES = ["startup", "sme", "midcap", "large_company", "cdmo", "academic_lab", "university", "training_body",
                 "technology_platform", "hospital", "cluster", "local_authority", "association"]
BENEFICIARY_WEIGHTS = [12, 16, 8, 6, 6, 10, 6, 3, 5, 4, 3, 2, 2]
AID_FORMS = ["grant", "repayable_advance", "loan", "equity", "tax_credit", "in_kind", "guarantee"]
AID_FORM_WEIGHTS = [60, 15, 8, 7, 3, 5, 2]
COVERS = ["opens_on, closes_on", "total_budget_eur", "ceilings", "opens_on, closes_on, total_budget_eur, ceilings",
          "laureates", "funding_rate_max_pct"]
ORG_SUFFIXES = ["Biotech", "Therapeutics", "Bioproduction", "Cell", "Vectors", "Pharma", "Biologics", "Labs"]


def rng_for(*key) -> random.Random:
    """A generator of its own for each entity (string seeds are hashed deterministically)."""
    return random.Random(f"{SEED}:{':'.join(map(str, key))}")


def pick_weighted(rng, items, weights, k=1):
    """k distinct items drawn with the given weights."""
    chosen = []
    pool, w = list(items), list(weights)
    for _ in range(min(k, len(pool))):
        idx = rng.choices(range(len(pool)), weights=w)[0]
        chosen.append(pool.pop(idx))
        w.pop(idx)
    return chosen


def django_setup():
    import django

    django.setup()


# -- Databases -----------------------------------------------------------------------------------


def pg_admin_connect(url):
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )


def reset_databases(log=print):
    """Drop and recreate the bench databases (never another one), then migrate both."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    name = settings.DATABASES["default"]["NAME"]
    if not name.startswith("registry_bench"):
        raise SystemExit(f"refusing to reset {name!r}: the bench only resets databases named registry_bench*")
    for alias in connections:
        connections[alias].close()
    with pg_admin_connect(None) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    sqlite_path = settings.DATABASES["sqlite"]["NAME"]
    os.makedirs(os.path.dirname(sqlite_path), exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{sqlite_path}{suffix}")
    # Migration 0002 seeds the vocabularies through the default manager, so only into `default`
    # (whatever database is migrated): the SQLite file gets them with the copy (copy_to_sqlite).
    for alias in ("default", "sqlite"):
        t0 = time.perf_counter()
        call_command("migrate", database=alias, verbosity=0, interactive=False)
        log(f"  migrated {alias} in {time.perf_counter() - t0:.1f}s")



# -- Templates: a generated registry kept for the next run -------------------------------------

# A template is reused when these files (the schema and the generator) and the day are the same;
# its read model is then checked against the write path of the code measured (`check_read_model`
# on TEMPLATE_CHECKS calls spread over the registry): if any differs, every size is generated again.
TEMPLATE_INPUTS = ["calls/migrations", "bench/generate.py"]
TEMPLATE_CHECKS = 40
TEMPLATE_PREFIX = "registry_bench_tpl_"


def fingerprint() -> str:
    """A digest of TEMPLATE_INPUTS' files and of today's date (dates are generated relative to it)."""
    import hashlib
    from pathlib import Path

    from django.utils import timezone

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(str(timezone.localdate()).encode())
    for name in TEMPLATE_INPUTS:
        path = root / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if file.exists():
                digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]


def template_name(size) -> str:
    return f"{TEMPLATE_PREFIX}{fingerprint()}_{size}"


def _bench_name():
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    if not name.startswith("registry_bench") or name.startswith(TEMPLATE_PREFIX):
        raise SystemExit(f"refusing to replace {name!r}: the bench only replaces databases named registry_bench*")
    return name


def template_info(size):
    """The generation figures stored with the template of this size and fingerprint (None: none)."""
    import json

    with pg_admin_connect(None) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template_name(size)]
        ).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0] or "{}")
    except ValueError:
        return {}


def save_template(size, generation, log=print):
    """Keep the bench database as it is now as the template of this size (older ones are dropped)."""
    import json

    from django.db import connections

    name, template = _bench_name(), template_name(size)
    connections.close_all()
    t0 = time.perf_counter()
    with pg_admin_connect(None) as admin:
        stale = [row[0] for row in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname NOT LIKE %s",
            [TEMPLATE_PREFIX + "%", f"{TEMPLATE_PREFIX}{fingerprint()}%"]).fetchall()]
        for old in stale + [template]:
            admin.execute(f'DROP DATABASE IF EXISTS "{old}"')
        admin.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
        comment = json.dumps({**generation, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}).replace("'", "''")
        admin.execute(f"COMMENT ON DATABASE \"{template}\" IS '{comment}'")
    log(f"  kept as template {template} in {time.perf_counter() - t0:.1f}s (dropped {len(stale)} older)")


def load_template(size, log=print):
    """Replace the bench database by the template of this size; its generation figures."""
    from django.db import connections

    name, template = _bench_name(), template_name(size)
    info = template_info(size)
    connections.close_all()
    t0 = time.perf_counter()
    with pg_admin_connect(None) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    seconds = time.perf_counter() - t0
    log(f"  {size} calls copied from template {template} in {seconds:.1f}s (generated {info.get('saved_at')})")
    return {**info, "from_template": template, "copy_seconds": round(seconds, 1)}


def drop_templates(log=print):
    with pg_admin_connect(None) as admin:
        names = [row[0] for row in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [TEMPLATE_PREFIX + "%"]).fetchall()]
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    log(f"  dropped templates {names}")


@contextlib.contextmanager
def explicit_timestamps(*models):
    """Let bulk_create write the generated created_at/updated_at instead of now()."""
    saved = []
    for model in models:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                saved.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def bulk(model, objects, log_counts):
    if not objects:
        return
    model.objects.using("default").bulk_create(objects, batch_size=BATCH)
    log_counts[model._meta.label] = log_counts.get(model._meta.label, 0) + len(objects)


# -- Reference entities: themes, documents, funders, programmes ----------------------------------


def generate_reference(log=print):
    from django.db import transaction
    from django.utils.text import slugify

    from calls.models import Document, Funder, Programme, Theme

    counts = {}
    themes = [Theme(id=k + 1, slug=s, name=n, name_en=e) for k, (s, n, e) in enumerate(THEMES)]
    documents = [
        Document(id=k + 1, key=f"doc-{k + 1}", title=f"Rapport sur {TOPICS[k % len(TOPICS)]} ({2015 + k % 11})",
                 url=f"https://example.org/documents/{k + 1}" if k % 3 else "")
        for k in range(40)
    ]
    funders = []
    fid = 0
    for kind, count, patterns in FUNDER_PLAN:
        for k in range(count):
            rng = rng_for("funder", kind, k)
            fid += 1
            if kind == "regional_authority":
                code = REGION_CODES[k]
                name, region, acronym = f"Région {REGION_NAMES[code]}", code, ""
            else:
                word = "".join(rng.choice(SYLLABLES) for _ in range(2)).capitalize()
                name = rng.choice(patterns).format(n=word)
                region = (
                    rng.choices(REGION_CODES, REGION_WEIGHTS)[0]
                    if kind in ("local_authority", "competitiveness_cluster") or rng.random() < 0.1 else None
                )
                acronym = word[:4].upper() if rng.random() < 0.4 else ""
            funders.append(Funder(
                id=fid, name=name, acronym=acronym, slug=f"{slugify(name)[:80]}-{fid}", kind=kind, region_id=region,
                country="FR" if kind != "foreign_public" else rng.choice(["DE", "BE", "CH", "GB", "US"]),
                website=f"https://example.org/financeurs/{fid}" if rng.random() < 0.7 else "",
                description=f"Financeur actif sur {rng.choice(TOPICS)} et {rng.choice(TOPICS)}.",
            ))
    programmes = []
    pid = 0
    top = ["France 2030", "Plan Innovation Santé 2030", "Contrat de plan État-Région", "Horizon Europe",
           "EU4Health", "Programme d'investissements d'avenir", "Stratégie biothérapies et bioproduction",
           "Plan de relance", "Programme régional d'innovation", "Feder", "Grand défi biomédicaments",
           "Compétences et métiers d'avenir", "Territoires d'industrie", "Programme i-Nov", "Programme i-Démo",
           "IHU et bioclusters", "PEPR biothérapies", "Programme Capacity building", "Initiative Bioproduction",
           "Plan régional santé"]
    tiers = []  # programme ids by depth
    for depth, count in ((0, 20), (1, 60), (2, 120)):
        ids = []
        for k in range(count):
            rng = rng_for("programme", depth, k)
            pid += 1
            parent = None if depth == 0 else rng.choice(tiers[depth - 1])
            if depth == 0:
                name = top[k]
            else:
                name = f"{'Axe' if depth == 1 else 'Mesure'} {k + 1} — {rng.choice(TOPICS).capitalize()}"
            start = datetime.date(2016 + rng.randrange(9), 1 + rng.randrange(12), 1)
            programmes.append(Programme(
                id=pid, name=name, slug=f"{slugify(name)[:100]}-{pid}", parent_id=parent,
                budget_eur=rng.choice([None, 10**6 * rng.randrange(5, 5000)]), starts_on=start,
                ends_on=start + datetime.timedelta(days=365 * rng.randrange(2, 8)),
                description=f"Programme consacré à {rng.choice(TOPICS)}.",
            ))
            ids.append(pid)
        tiers.append(ids)
    programme_funders = []
    through = Programme.funders.through
    for programme in programmes:
        rng = rng_for("programme-funders", programme.id)
        for funder_id in rng.sample(range(1, fid + 1), rng.randint(1, 2)):
            programme_funders.append(through(programme_id=programme.id, funder_id=funder_id))
    with transaction.atomic(using="default"):
        bulk(Theme, themes, counts)
        bulk(Document, documents, counts)
        bulk(Funder, funders, counts)
        bulk(Programme, [p for p in programmes if p.parent_id is None], counts)
        bulk(Programme, [p for p in programmes if p.parent_id is not None and p.id <= 80], counts)
        bulk(Programme, [p for p in programmes if p.id > 80], counts)
        bulk(through, programme_funders, counts)
    return counts


def reference_maps():
    """What calls draw from: funders by kind and region, leaf programmes."""
    from calls.models import Funder, Programme

    funders = list(Funder.objects.using("default").order_by("pk").values("id", "kind", "region_id"))
    by_kind = {}
    for funder in funders:
        by_kind.setdefault(funder["kind"], []).append(funder["id"])
    regional = {f["region_id"]: f["id"] for f in funders if f["kind"] == "regional_authority"}
    programmes = list(Programme.objects.using("default").order_by("pk").values_list("id", flat=True))
    return {"by_kind": by_kind, "regional": regional, "all": [f["id"] for f in funders], "programmes": programmes,
            "funder_regions": {f["id"]: f["region_id"] for f in funders}}


# -- Calls ---------------------------------------------------------------------------------------


def _title(rng, call_type, topics, scope, regions, year):
    prefix = rng.choice(TITLE_PREFIXES[call_type])
    subject = topics[0] if len(topics) == 1 or rng.random() < 0.5 else f"{topics[0]} et {topics[1]}"
    where = f" — {REGION_NAMES[regions[0]]}" if scope == "regional" and regions else ""
    return f"{prefix} « {subject[0].upper()}{subject[1:]} »{where} {year}"


def _text(rng, topics, sentences):
    parts = []
    for _ in range(sentences):
        template = rng.choice(SENTENCES)
        parts.append(template.format(a=rng.choice(topics), b=rng.choice(TOPICS)))
    return " ".join(parts)


def _date_pair(rng, today):
    """(opens_on, closes_on): ~80 % past, ~12 % open, ~8 % upcoming (a registry keeps its history)."""
    draw = rng.random()
    length = datetime.timedelta(days=rng.randrange(21, 150))
    if draw < 0.80:  # past
        closes = today - datetime.timedelta(days=rng.randrange(1, 1500))
        return closes - length, closes
    if draw < 0.92:  # open
        opens = today - datetime.timedelta(days=rng.randrange(0, 100))
        return opens, max(opens + length, today + datetime.timedelta(days=rng.randrange(1, 120)))
    opens = today + datetime.timedelta(days=rng.randrange(1, 300))  # upcoming
    return opens, opens + length


def build_calls(start, stop, refs, today, now):
    """Model instances for calls [start, stop) and everything that hangs off them."""
    from django.utils.text import slugify

    from calls.models import (
        Call,
        CallFunder,
        Ceiling,
        Laureate,
        Round,
        Source,
    )

    HistoricalCall = Call.history.model
    through = {name: getattr(Call, name).through for name in ("themes", "regions", "beneficiaries", "aid_forms")}
    rows = {key: [] for key in ("calls", "history", "funders", "rounds", "ceilings", "sources", "laureates",
                                "themes", "regions", "beneficiaries", "aid_forms")}
    call_fields = [f.attname for f in Call._meta.concrete_fields]
    by_kind, regional_funder = refs["by_kind"], refs["regional"]
    non_regional_kinds = [k for k in by_kind if k not in ("regional_authority", "foreign_public")]
    for index in range(start, stop):
        rng = rng_for("call", index)
        call_id = index + 1
        call_type = rng.choices(CALL_TYPES, CALL_TYPE_WEIGHTS)[0]
        scope = rng.choices(["regional", "national", "european", "international"], [30, 45, 18, 7])[0]
        country = "FR"
        if scope == "international" and rng.random() < 0.4:
            country = rng.choice(["DE", "BE", "CH", "GB", "US", "NL"])
        regions = []
        if scope == "regional":
            regions = pick_weighted(rng, REGION_CODES, REGION_WEIGHTS, rng.choice([1, 1, 1, 2]))
        topics = pick_weighted(rng, TOPICS, TOPIC_WEIGHTS, 3)
        if call_type == "open_scheme" and rng.random() < 0.5:
            opens, closes, rolling = today - datetime.timedelta(days=rng.randrange(30, 2000)), None, True
        else:
            opens, closes = _date_pair(rng, today)
            rolling = False
        if rng.random() < 0.05:
            opens = None  # opening date unknown
        title = _title(rng, call_type, topics, scope, regions, (closes or today).year)
        created = now - datetime.timedelta(seconds=rng.randrange(0, 3 * 365 * 86400))
        # Most calls were edited a while ago; ~2 % in the last week (what a daily sync sees).
        if rng.random() < 0.02:
            updated = now - datetime.timedelta(seconds=rng.randrange(0, 7 * 86400))
        else:
            updated = created + (now - created) * rng.random() ** 3
        updated = max(updated, created)
        state = rng.choices(["published", "draft", "archived"], [90, 6, 4])[0]
        ceiling_count = rng.choices([0, 1, 2], [30, 50, 20])[0]
        amounts = sorted((int(10 ** rng.uniform(4.7, 7.3)) // 1000 * 1000 + 1000 for _ in range(ceiling_count)),
                         reverse=True)
        floor = (amounts[-1] // 10 // 1000 * 1000 or None) if amounts and rng.random() < 0.3 else None
        trl = sorted(rng.sample(range(1, 10), 2)) if rng.random() < 0.6 else (None, None)
        rate = sorted(rng.sample(range(20, 101, 5), 2)) if rng.random() < 0.5 else (None, None)
        duration = sorted(rng.sample(range(6, 61, 6), 2)) if rng.random() < 0.4 else (None, None)
        call = Call(
            id=call_id, title=title[:300], slug=f"{slugify(title)[:120]}-{call_id}",
            summary=_text(rng, topics, 2), description=_text(rng, topics, rng.randint(4, 9)),
            call_type=call_type,
            programme_id=rng.choice(refs["programmes"]) if rng.random() < 0.7 else None,
            opens_on=opens, opens_on_precision="day" if rng.random() < 0.85 else "month",
            closes_on=closes, closes_on_precision="day" if rng.random() < 0.9 else "month",
            is_rolling=rolling,
            total_budget_eur=10**6 * rng.randrange(1, 500) if rng.random() < 0.7 else None,
            floor_eur=floor, funding_rate_min_pct=rate[0], funding_rate_max_pct=rate[1],
            duration_min_months=duration[0], duration_max_months=duration[1],
            scope=scope, country=country,
            consortium_required=rng.choices([None, True, False], [40, 25, 35])[0],
            trl_min=trl[0], trl_max=trl[1],
            eligibility=f"Entreprises et laboratoires engagés dans {topics[0]}.",
            eligible_expenses="Investissements, personnels, prestations, frais de propriété intellectuelle.",
            apply_url=f"https://example.org/appels/{call_id}" if rng.random() < 0.8 else "",
            previous_edition_id=index - 6 if index % 7 == 0 and index >= 7 else None,
            publication_state=state,
            last_verified_on=(today - datetime.timedelta(days=rng.randrange(0, 400))) if rng.random() < 0.8 else None,
            created_at=created, updated_at=updated,
        )
        if hasattr(call, "published_at") and state != "draft":
            call.published_at = created  # first publication: the feed and the "newest" ordering follow it
        rows["calls"].append(call)
        values = {name: getattr(call, name) for name in call_fields}
        rows["history"].append(HistoricalCall(
            **{**values, "publication_state": "published" if state == "archived" else state},
            history_date=created, history_type="+",
        ))
        if state == "archived":  # published once, archived since: the sync reports it as removed
            rows["history"].append(HistoricalCall(**values, history_date=updated, history_type="~"))
        # Funders: 1–3, the first one funds; regional calls are funded by their region.
        funder_ids = []
        if scope == "regional" and regions and rng.random() < 0.8:
            funder_ids.append(regional_funder[regions[0]])
        elif country != "FR":
            funder_ids.append(rng.choice(by_kind["foreign_public"]))
        elif scope == "european":
            funder_ids.append(rng.choice(by_kind["european_union"]))
        wanted = rng.choices([1, 2, 3], [45, 35, 20])[0]
        for _ in range(6):
            if len(funder_ids) >= wanted:
                break
            candidate = rng.choice(by_kind[rng.choice(non_regional_kinds)])
            if candidate not in funder_ids:
                funder_ids.append(candidate)
        for k, funder_id in enumerate(funder_ids):
            role = "funder" if k == 0 else rng.choice(FUNDER_ROLES)
            rows["funders"].append(CallFunder(call_id=call_id, funder_id=funder_id, role=role))
        # Rounds (0–3) within the call's window.
        round_count = 0 if rolling else rng.choices([0, 1, 2, 3], [55, 20, 15, 10])[0]
        if round_count and opens and closes:
            span = max((closes - opens).days, round_count)
            for k in range(round_count):
                r_close = opens + datetime.timedelta(days=span * (k + 1) // round_count)
                r_open = opens + datetime.timedelta(days=span * k // round_count)
                rows["rounds"].append(Round(
                    call_id=call_id, name=f"Vague {k + 1}", opens_on=r_open, closes_on=r_close,
                    budget_eur=10**5 * rng.randrange(5, 500) if rng.random() < 0.5 else None,
                ))
        for k, amount in enumerate(amounts):
            rows["ceilings"].append(Ceiling(
                call_id=call_id, amount_eur=amount,
                condition="" if k == 0 else rng.choice(["pour les PME", "pour les plateformes labellisées",
                                                        "pour les projets collaboratifs"]),
            ))
        theme_count = rng.choices([1, 2, 3, 4], [30, 35, 25, 10])[0]
        for theme_id in pick_weighted(rng, range(1, len(THEMES) + 1), THEME_WEIGHTS, theme_count):
            rows["themes"].append(through["themes"](call_id=call_id, theme_id=theme_id))
        for code in regions:
            rows["regions"].append(through["regions"](call_id=call_id, region_id=code))
        if rng.random() < 0.9:  # 10 % say nothing of beneficiaries (open to all)
            for code in pick_weighted(rng, BENEFICIARIES, BENEFICIARY_WEIGHTS, rng.randint(1, 5)):
                rows["beneficiaries"].append(through["beneficiaries"](call_id=call_id, beneficiarytype_id=code))
        for code in pick_weighted(rng, AID_FORMS, AID_FORM_WEIGHTS, rng.choices([1, 2], [70, 30])[0]):
            rows["aid_forms"].append(through["aid_forms"](call_id=call_id, aidformtype_id=code))
        for k in range(rng.choices([1, 2, 3], [50, 35, 15])[0]):
            doc = rng.randrange(1, 41) if rng.random() < 0.5 else None
            rows["sources"].append(Source(
                call_id=call_id, document_id=doc, title="" if doc else f"Cahier des charges de l'appel {call_id}",
                url=f"https://example.org/sources/{call_id}/{k}" if rng.random() < 0.7 else "",
                locator=f"p. {rng.randrange(1, 60)}" if rng.random() < 0.5 else "",
                accessed_on=today - datetime.timedelta(days=rng.randrange(0, 700)), covers=rng.choice(COVERS),
            ))
        if closes and closes < today and rng.random() < 0.25:
            for _ in range(rng.randint(1, 6)):
                word = "".join(rng.choice(SYLLABLES) for _ in range(2)).capitalize()
                rows["laureates"].append(Laureate(
                    call_id=call_id, organisation=f"{word} {rng.choice(ORG_SUFFIXES)}",
                    project=f"Projet {word.upper()} — {rng.choice(TOPICS)}",
                    amount_eur=10**4 * rng.randrange(10, 500) if rng.random() < 0.7 else None,
                    region_id=rng.choices(REGION_CODES, REGION_WEIGHTS)[0] if rng.random() < 0.8 else None,
                    year=closes.year,
                ))
    return rows


def _insert_chunk(task):
    """Build calls [start, stop) and bulk_create them in PostgreSQL (runs in a worker process)."""
    from django.db import connections, transaction

    from calls.models import Call, CallFunder, Ceiling, Laureate, Round, Source

    start, stop, refs, today, now = task
    models = {"calls": Call, "history": Call.history.model, "funders": CallFunder, "rounds": Round,
              "ceilings": Ceiling, "sources": Source, "laureates": Laureate}
    models.update({name: getattr(Call, name).through for name in ("themes", "regions", "beneficiaries", "aid_forms")})
    counts = {}
    with explicit_timestamps(Call, Call.history.model):
        rows = build_calls(start, stop, refs, today, now)
        for call in rows["calls"]:
            call.previous_edition_id = None  # linked after every chunk is in (see grow)
        with transaction.atomic(using="default"):
            for key, model in models.items():
                model.objects.using("default").bulk_create(rows[key], batch_size=BATCH)
                counts[model._meta.label] = len(rows[key])
    connections.close_all()
    return counts


def grow(target, log=print, processes=2):
    """Add calls until the registry holds `target` (same data as generating `target` in one go).

    Chunks of 5 000 calls are built and bulk-inserted by `processes` worker processes.
    """
    import multiprocessing

    from django.db import connections
    from django.utils import timezone

    from calls.models import Call

    current = Call.objects.using("default").count()
    if current == 0:
        counts = generate_reference(log)
        log(f"  reference rows: {counts}")
    if current >= target:
        return {"calls": current, "seconds": 0.0}
    refs = reference_maps()
    today = timezone.localdate()
    now = timezone.now().replace(microsecond=0)  # the same for the whole run
    t0 = time.perf_counter()
    step = 5000
    tasks = [(start, min(start + step, target), refs, today, now) for start in range(current, target, step)]
    connections.close_all()  # the workers are forked: each opens its own connection
    counts = {}
    if processes > 1 and len(tasks) > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            results = pool.imap_unordered(_insert_chunk, tasks)
            for done, result in enumerate(results, 1):
                for key, n in result.items():
                    counts[key] = counts.get(key, 0) + n
                if done % 4 == 0:
                    log(f"  {done * step + current} calls ({time.perf_counter() - t0:.0f}s)")
    else:
        for task in tasks:
            for key, n in _insert_chunk(task).items():
                counts[key] = counts.get(key, 0) + n
    seconds = time.perf_counter() - t0
    with connections["default"].cursor() as cursor:
        # Editions: call 7k+1 follows call 7k-6 (one-to-one), set once both chunks are in.
        cursor.execute(
            "UPDATE calls_call SET previous_edition_id = id - 7 WHERE (id - 1) %% 7 = 0 AND id > 7 "
            "AND id > %s AND id <= %s",
            [current, target],
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('calls_call', 'id'), (SELECT max(id) FROM calls_call))")
    # The read model of the new calls (and of the last calls before them, whose next edition may
    # be new), built from `calls.reading.read_model.entry_of` as the write path builds it.
    index = build_read_model(max(0, current - 7), log, processes=processes)
    t1 = time.perf_counter()
    with connections["default"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics, as autovacuum would give a live registry
    analyzed = time.perf_counter() - t1
    log(f"  grew to {target} calls in {seconds:.1f}s, read model in {index['seconds']:.1f}s "
        f"(+{analyzed:.1f}s VACUUM ANALYZE); rows: {counts}")
    return {"calls": target, "seconds": round(seconds, 1), "analyze_seconds": round(analyzed, 1), "rows": counts,
            "read_model": index}


# -- The read model ------------------------------------------------------------------------------

INDEX_CHUNK = 1000


def _read_model_module():
    from calls.reading import read_model

    return read_model


def _calls_for_index(read_model, ids):
    """The calls `ids` with the rows `entry_of` reads: the write path's own query set."""
    return read_model.calls_with_rows(ids, "default")


def _compiled_vector(vector_of, weights):
    """(sql, slots) of `vector_of({weight: text})`: each parameter slot is ("text", weight) or
    ("constant", value), found by compiling the expression once with marker texts."""
    from django.db.models.sql import Query

    from calls.models import CallIndex

    markers = {weight: f"\x01bench-marker-{weight}\x01" for weight in weights}
    query = Query(CallIndex)
    expression = vector_of(markers).resolve_expression(query, allow_joins=False, for_save=True)
    sql, params = query.get_compiler(using="default").compile(expression)
    by_marker = {marker: weight for weight, marker in markers.items()}
    slots = [("text", by_marker[p]) if p in by_marker else ("constant", p) for p in params]
    if sorted(w for kind, w in slots if kind == "text") != sorted(weights):
        raise RuntimeError(f"unexpected search vector expression: {sql} {params}")
    return sql, slots


def _index_chunk(ids):
    """Read model rows of calls `ids` (a worker process): entries from `read_model.entry_of`,
    written with bulk inserts, the search vectors by one UPDATE a call in a pipeline."""
    from django.db import connections, transaction

    from calls import models as call_models
    from calls.models import CallIndex, CallPeriod, Programme

    CallFacet = getattr(call_models, "CallFacet", None)  # noqa: N806 - a model class
    t0 = time.perf_counter()
    read_model = _read_model_module()
    # Every programme read once for the chunk (`entry_of`'s own parameter, as the write path's
    # batches do): the generated programmes don't change while the bench builds the read model.
    programmes = {programme.pk: programme for programme in Programme.objects.using("default")}
    entries = [(call.pk, read_model.entry_of(call, "default", programmes))
               for call in _calls_for_index(read_model, ids)]
    computed = time.perf_counter() - t0
    with transaction.atomic(using="default"):
        CallPeriod.objects.using("default").filter(call_index_id__in=ids).delete()
        if CallFacet is not None:
            CallFacet.objects.using("default").filter(call_index_id__in=ids).delete()
        CallIndex.objects.using("default").filter(pk__in=ids).delete()
        CallIndex.objects.using("default").bulk_create(
            [CallIndex(call_id=pk, **entry.values) for pk, entry in entries], batch_size=500)
        CallPeriod.objects.using("default").bulk_create(
            [CallPeriod(call_index_id=pk, starts_on=start, ends_on=end)
             for pk, entry in entries for start, end in entry.periods], batch_size=BATCH)
        if CallFacet is not None:
            CallFacet.objects.using("default").bulk_create(
                [CallFacet(call_index_id=pk, facet=facet, value=value)
                 for pk, entry in entries for facet, value in getattr(entry, "facets", [])], batch_size=BATCH)
        vector_of = getattr(read_model, "_search_vector", None)
        if vector_of is not None and connections["default"].vendor == "postgresql":
            # The write path's own vector expression, compiled once per set of weights; each call
            # gives its texts as the parameters (one UPDATE per call, sent in a pipeline).
            by_weights = {}
            for pk, entry in entries:
                by_weights.setdefault(tuple(entry.weighted_texts), []).append((pk, entry.weighted_texts))
            with connections["default"].cursor() as cursor:
                for weights, rows in by_weights.items():
                    sql, slots = _compiled_vector(vector_of, weights)
                    cursor.executemany(
                        f'UPDATE "calls_callindex" SET "search_vector" = {sql} WHERE "call_id" = %s',
                        [[texts[slot[1]] if slot[0] == "text" else slot[1] for slot in slots] + [pk]
                         for pk, texts in rows],
                    )
    written = time.perf_counter() - t0 - computed
    connections.close_all()
    return {"calls": len(entries), "entry_of_s": computed, "write_s": written}


def build_read_model(after_id=0, log=print, processes=2):
    """The read model (CallIndex, CallPeriod) of every call with an id above `after_id`, then a
    new registry version. `calls.reading.read_model.rebuild()` does the same one call at a time (a few
    queries each): minutes at 100 000 calls."""
    import multiprocessing

    from django.db import connections

    from calls.models import Call

    read_model = _read_model_module()
    t0 = time.perf_counter()
    ids = list(Call.objects.using("default").filter(pk__gt=after_id).order_by("pk").values_list("pk", flat=True))
    tasks = [ids[k:k + INDEX_CHUNK] for k in range(0, len(ids), INDEX_CHUNK)]
    totals = {"calls": 0, "entry_of_s": 0.0, "write_s": 0.0}
    connections.close_all()
    if processes > 1 and len(tasks) > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            results = list(pool.imap_unordered(_index_chunk, tasks))
    else:
        results = [_index_chunk(task) for task in tasks]
    for result in results:
        for key, value in result.items():
            totals[key] += value
    from django.db import transaction

    with transaction.atomic(using="default"):
        read_model.bump_version(using="default")
    seconds = time.perf_counter() - t0
    differences = check_against_write_path(read_model, ids[:: max(1, len(ids) // 5)][:5])
    for message in differences:
        log(f"  WARNING: {message}")
    log(f"  read model of {totals['calls']} calls in {seconds:.1f}s (worker time: entry_of "
        f"{totals['entry_of_s']:.1f}s, writes {totals['write_s']:.1f}s)")
    return {"calls": totals["calls"], "seconds": round(seconds, 1), "entry_of_s": round(totals["entry_of_s"], 1),
            "write_s": round(totals["write_s"], 1), "differences_from_write_path": differences}


def check_read_model(log=print, sample=TEMPLATE_CHECKS) -> list[str]:
    """`check_against_write_path` on `sample` calls spread over the registry."""
    from calls.models import Call

    ids = list(Call.objects.using("default").order_by("pk").values_list("pk", flat=True))
    differences = check_against_write_path(_read_model_module(), ids[:: max(1, len(ids) // sample)][:sample])
    for message in differences:
        log(f"  WARNING: {message}")
    return differences


def _stored_rows(call_id):
    """Everything the read model holds for one call: its CallIndex row and the rows hanging off it."""
    from calls.models import CallIndex

    row = CallIndex.objects.using("default").filter(pk=call_id).values().first()
    related = {}
    for relation in CallIndex._meta.related_objects:
        if not relation.one_to_many:
            continue
        model, fk = relation.related_model, relation.field.attname
        columns = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", fk)]
        related[model.__name__] = sorted(
            map(tuple, model.objects.using("default").filter(**{fk: call_id}).values_list(*columns)), key=repr)
    return row, related


def check_against_write_path(read_model, call_ids) -> list[str]:
    """Compare the bulk-built read model of a few calls with what the write path
    (`read_model.refresh`) stores for them; the differences, in words (none expected)."""
    differences = []
    for call_id in call_ids:
        built = _stored_rows(call_id)
        read_model.refresh(call_ids=[call_id], using="default")
        kept = _stored_rows(call_id)
        if built[0] != kept[0]:
            fields = sorted(k for k in set(built[0] or {}) | set(kept[0] or {})
                            if (built[0] or {}).get(k) != (kept[0] or {}).get(k))
            differences.append(f"call {call_id}: the bulk build and the write path differ on CallIndex {fields}")
        for name in sorted(set(built[1]) | set(kept[1])):
            if built[1].get(name) != kept[1].get(name):
                differences.append(f"call {call_id}: the bulk build and the write path differ on its {name} rows")
    return differences


def copy_to_sqlite(log=print):
    """Copy every table of the app (calls_*) from the PostgreSQL bench database into the SQLite file.

    The SQLite file was migrated by Django: same tables, same columns. Values are converted in
    the SELECT to what Django's SQLite backend stores (UTC text timestamps, ISO dates, 0/1).
    """
    import sqlite3

    from django.conf import settings
    from django.db import connections

    t0 = time.perf_counter()
    target = sqlite3.connect(settings.DATABASES["sqlite"]["NAME"])
    target.execute("PRAGMA synchronous=OFF")
    target.execute("PRAGMA journal_mode=WAL")
    tables = [row[0] for row in target.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'calls%' ORDER BY name")]
    total = 0
    with connections["default"].cursor() as source:
        source.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name LIKE 'calls%%' ORDER BY table_name, ordinal_position"
        )
        types = {}
        for table, column, data_type in source.fetchall():
            types.setdefault(table, {})[column] = data_type
        for table in tables:
            columns = [row[1] for row in target.execute(f'PRAGMA table_info("{table}")')]
            exprs = []
            for column in columns:
                kind = types[table][column]
                if kind.startswith("timestamp"):
                    exprs.append(f"to_char(\"{column}\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
                elif kind == "date":
                    exprs.append(f'"{column}"::text')
                elif kind == "boolean":
                    exprs.append(f'"{column}"::int')
                elif kind in ("jsonb", "json"):
                    exprs.append(f'"{column}"::text')
                elif kind == "tsvector":
                    exprs.append("NULL")  # SQLite searches the read model's plain texts
                else:
                    exprs.append(f'"{column}"')
            target.execute(f'DELETE FROM "{table}"')
            source.execute(f'SELECT {", ".join(exprs)} FROM "{table}"')
            placeholders = ", ".join("?" * len(columns))
            names = ", ".join(f'"{c}"' for c in columns)
            while True:
                batch = source.fetchmany(20000)
                if not batch:
                    break
                target.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({placeholders})', batch)
                total += len(batch)
    target.commit()
    target.execute("ANALYZE")
    target.close()
    seconds = time.perf_counter() - t0
    log(f"  copied {total} rows to SQLite in {seconds:.1f}s")
    return {"rows": total, "seconds": round(seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="grow the existing bench databases instead of resetting")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    django_setup()
    if not args.keep:
        reset_databases()
    grow(args.size)
    copy_to_sqlite()


if __name__ == "__main__":
    main()
