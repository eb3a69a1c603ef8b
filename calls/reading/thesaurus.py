"""The sector's words: one table of the terms applicants type and what they mean, read by the
search on both databases (`calls.reading.search`).

Each `Concept` lists its **synonyms** (words that mean the same, in French and English: typing
any of them finds what any of them finds) and its **narrower terms** (kinds of it: "CAR-T" is a
cell therapy). A call whose text names a narrower term is found by the concept's synonyms, and a
query of a narrower term finds every call of the concept:

- at write time, `concepts_named_in()` gives the concepts a call's texts name (by a synonym or a
  narrower term); the read model adds their synonyms to the call's search document;
- at query time, a synonym or a narrower term becomes the group of the concept's synonyms (see
  `calls.reading.search`): "CAR-T" is searched as "thérapie cellulaire" or "cell therapy", never as the
  word "car" a French sentence uses.

Terms are compared as `calls.reading.search` compares words: lower-cased, unaccented, lightly stemmed,
French stop words aside. Keep each term unambiguous in this sector ("BPI" is Bpifrance here).
`meaning` says where the equivalence comes from.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Concept:
    synonyms: tuple[str, ...]
    narrower: tuple[str, ...] = ()
    meaning: str = ""


THESAURUS = (
    # Kinds of calls and of applicants (French administrative usage).
    Concept(("AAP", "appel à projets", "call for projects")),
    Concept(("AMI", "appel à manifestation d'intérêt", "call for expressions of interest")),
    Concept(("AAC", "appel à candidatures", "call for applications")),
    Concept(("startup", "start-up", "start-ups", "start up", "jeune pousse"),
            meaning="Bpifrance and French Tech call young innovative companies start-ups or jeunes pousses"),
    Concept(("PME", "petite et moyenne entreprise", "SME"),
            meaning="EU Recommendation 2003/361: SME = PME"),
    Concept(("ETI", "entreprise de taille intermédiaire", "mid-cap", "midcap")),
    Concept(("TPE", "très petite entreprise", "microentreprise", "micro-entreprise", "micro-enterprise")),
    Concept(("Bpifrance", "BPI France", "BPI")),
    # Therapies (ANSM and EMA vocabulary: MTI is the French name of ATMPs, Regulation 1394/2007).
    Concept(("thérapie cellulaire", "cell therapy", "cell therapies"),
            narrower=("CAR-T", "CART", "CAR-NK", "TIL", "lymphocytes infiltrant la tumeur",
                      "tumour-infiltrating lymphocytes", "tumor-infiltrating lymphocytes"),
            meaning="CAR-T, CAR-NK and TIL products are cell therapies (ANSM, EMA CAT)"),
    Concept(("thérapie génique", "gene therapy", "gene therapies"),
            narrower=("AAV", "adeno-associated virus", "virus adéno-associé", "lentivirus", "lentiviral",
                      "vecteur viral", "vecteurs viraux", "viral vector", "viral vectors"),
            meaning="AAV and lentiviral vectors carry gene therapies (ANSM, EMA CAT)"),
    Concept(("MTI", "médicament de thérapie innovante", "ATMP", "advanced therapy medicinal product",
             "thérapie innovante", "advanced therapy", "advanced therapies"),
            meaning="Regulation (EC) 1394/2007: ATMP; in French, médicament de thérapie innovante (MTI)"),
    Concept(("ARNm", "ARN messager", "mRNA", "messenger RNA")),
    Concept(("anticorps monoclonal", "anticorps monoclonaux", "mAb", "mAbs", "monoclonal antibody",
             "monoclonal antibodies")),
    Concept(("biothérapie", "biothérapies", "biotherapy", "biotherapies", "biomédicament", "biomédicaments",
             "biologic", "biologics", "médicament biologique", "biopharmaceutical", "biopharmaceuticals"),
            meaning="biothérapies and biomédicaments are biologics (Stratégie d'accélération Biothérapies "
                    "et Bioproduction)"),
    Concept(("vaccin", "vaccins", "vaccine", "vaccines")),
    Concept(("biosimilaire", "biosimilaires", "biosimilar", "biosimilars")),
    # Making them.
    Concept(("bioproduction", "biomanufacturing", "bioprocédé", "bioprocédés", "bioprocess", "bioprocessing",
             "biofabrication"),
            meaning="bioproduction is the making of biologics by bioprocesses (Grand Défi Biomédicaments)"),
    Concept(("CDMO", "CMO", "façonnier", "façonniers", "sous-traitant", "sous-traitance",
             "contract manufacturing", "contract manufacturer", "contract development and manufacturing"),
            meaning="a CDMO makes medicines under contract: a façonnier (sous-traitant pharmaceutique)"),
    Concept(("usine", "site de production", "industrialisation", "manufacturing site", "production site",
             "factory", "scale-up", "passage à l'échelle", "montée en échelle")),
    Concept(("essai clinique", "essais cliniques", "clinical trial", "clinical trials")),
    Concept(("médicament", "médicaments", "medicine", "medicines", "drug", "drugs")),
    Concept(("santé", "health", "healthcare")),
    Concept(("plateforme technologique", "plateformes technologiques", "technology platform",
             "technology platforms")),
    Concept(("subvention", "subventions", "grant", "grants")),
    Concept(("prêt", "prêts", "loan", "loans")),
    Concept(("avance remboursable", "avances remboursables", "repayable advance", "repayable advances")),
    Concept(("fonds propres", "equity", "investissement en fonds propres")),
    Concept(("crédit d'impôt", "tax credit")),
    Concept(("formation", "training")),
    Concept(("compétences", "skills")),
    Concept(("intelligence artificielle", "IA", "artificial intelligence")),
)
