"""Loaders for the public datasets in the shared data folder (see its README).

Each returns binary items with a category. Sources that ship no train split
get a stable hash split (80/20) by question, so the options of one question
never straddle train and test; the source split is kept in `extra`.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path

from ..records import Dataset, Item
from . import SHARED
from .base import DataError, LoadedDataset, hash_split, seeded_rng

DEFAULT_DATA_DIR = Path("../shared/data")


def data_dir(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("W2S_DATA_DIR") or DEFAULT_DATA_DIR)


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    if not folder.is_dir():
        raise DataError(folder, "not found: point --data-dir (or W2S_DATA_DIR) at the folder "
                                "that holds the shared datasets")
    return folder


def _csv_rows(path: Path, header: bool = True, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(newline="", encoding=encoding) as f:
        rows = list(csv.reader(f))
    return rows[1:] if header else rows


# -- ETHICS -------------------------------------------------------------------

ETHICS_QUESTIONS = {
    "commonsense": "Is the narrator's action clearly morally wrong?",
    "deontology": "Is this excuse reasonable?",
    "justice": "Is this a reasonable and just claim?",
    "virtue": "Does the person in the sentence show this trait?",
    "utilitarianism": "Is scenario A more pleasant for the person than scenario B?",
}


def load_ethics(root: Path) -> LoadedDataset:
    folder = _folder(root, "ethics")
    out = LoadedDataset(Dataset(
        name="ethics", labels=["no", "yes"], question="Is this acceptable?",
        description="ETHICS (Hendrycks et al. 2021); the five subsets are the categories.",
        source=str(folder)))

    def add(subset: str, split: str, n: int, text: str, label: int, **extra: object) -> None:
        out.add(Item(id=f"ethics:{subset}:{extra.get('source_split', split)}:{n}",
                     dataset="ethics", split=split, category=subset, text=text,
                     question=ETHICS_QUESTIONS[subset], extra=extra), label)

    for source_split in ("test", "test_hard"):
        for n, row in enumerate(_csv_rows(folder / f"commonsense/cm_{source_split}.csv")):
            label, text, is_short = int(row[0]), row[1].strip(), row[2] == "True"
            add("commonsense", hash_split(f"cm:{text}"), n, text, label,
                source_split=source_split, is_short=is_short)
    for split in ("train", "test", "test_hard"):
        for n, row in enumerate(_csv_rows(folder / f"deontology/deontology_{split}.csv")):
            add("deontology", split, n, f"{row[1].strip()}\nExcuse: {row[2].strip()}", int(row[0]))
        for n, row in enumerate(_csv_rows(folder / f"justice/justice_{split}.csv")):
            add("justice", split, n, row[1].strip(), int(row[0]))
        for n, row in enumerate(_csv_rows(folder / f"virtue/virtue_{split}.csv")):
            sentence, _, trait = row[1].rpartition("[SEP]")
            add("virtue", split, n, f"{sentence.strip()}\nTrait: {trait.strip()}", int(row[0]),
                trait=trait.strip())
        for n, row in enumerate(_csv_rows(folder / f"utilitarianism/util_{split}.csv",
                                          header=False)):
            better, worse = row[0].strip(), row[1].strip()
            first_is_better = seeded_rng("util", split, n).random() < 0.5
            a, b = (better, worse) if first_is_better else (worse, better)
            add("utilitarianism", split, n, f"A: {a}\nB: {b}", int(first_is_better))
    return out


# -- multiple choice: SciQ, MMLU ------------------------------------------------

def _balanced_pair(out: LoadedDataset, prefix: str, split: str, category: str, question: str,
                   correct: str, wrong: list[str], **extra: object) -> None:
    """The correct option and one random wrong option, as two items of one group."""
    wrong_pick = seeded_rng(prefix, question, correct)
    wrong = [w for w in wrong if w.strip() and w.strip() != correct.strip()]
    if not wrong:
        return
    chosen = wrong_pick.choice(wrong)
    for suffix, option, label in (("c", correct, 1), ("w", chosen, 0)):
        out.add(Item(id=f"{prefix}:{suffix}", dataset=out.dataset.name, split=split,
                     category=category, group_id=prefix,
                     text=f"Question: {question.strip()}\nAnswer: {option.strip()}",
                     extra=extra), label)


def load_sciq(root: Path) -> LoadedDataset:
    folder = _folder(root, "sciq")
    out = LoadedDataset(Dataset(
        name="sciq", labels=["no", "yes"], question="Is this answer correct?",
        description="SciQ (Welbl et al. 2017): correct answer vs one random distractor.",
        source=str(folder)))
    for source_split, split in (("train", "train"), ("valid", "val"), ("test", "test")):
        rows = json.loads((folder / f"{source_split}.json").read_text(encoding="utf-8"))
        for n, q in enumerate(rows):
            _balanced_pair(out, f"sciq:{split}:{n}", split, "science", q["question"],
                           q["correct_answer"], [q["distractor1"], q["distractor2"],
                                                 q["distractor3"]], support=q["support"])
    return out


def load_mmlu(root: Path) -> LoadedDataset:
    folder = _folder(root, "mmlu")
    out = LoadedDataset(Dataset(
        name="mmlu", labels=["no", "yes"], question="Is this answer correct?",
        description="MMLU (Hendrycks et al. 2021): correct option vs one random wrong option; "
                    "category = one of the 4 top-level categories, subject in extra.",
        source=str(folder)))
    subjects = {r[0]: (r[1], r[2]) for r in _csv_rows(folder / "subject_categories.csv")}
    for source_split in ("dev", "val", "test"):
        for path in sorted((folder / source_split).glob("*.csv")):
            subject = path.name.rsplit("_", 1)[0]
            subcategory, category = subjects[subject]
            for n, row in enumerate(_csv_rows(path, header=False)):
                question, options, answer = row[0], row[1:5], "ABCD".index(row[5].strip())
                prefix = f"mmlu:{source_split}:{subject}:{n}"
                _balanced_pair(out, prefix, hash_split(prefix), category, question,
                               options[answer], options[:answer] + options[answer + 1:],
                               subject=subject, subcategory=subcategory,
                               source_split=source_split)
    return out


# -- TruthfulQA -------------------------------------------------------------------

def load_truthfulqa(root: Path) -> LoadedDataset:
    folder = _folder(root, "truthfulqa")
    out = LoadedDataset(Dataset(
        name="truthfulqa", labels=["no", "yes"], question="Is this answer true?",
        description="TruthfulQA (Lin et al. 2022, 2025 CSV): every reference answer, true or "
                    "false; its 37 categories.", source=str(folder)))
    with (folder / "TruthfulQA.csv").open(newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f)):
            question = row["Question"].strip()
            split = hash_split(question)
            group = f"truthfulqa:{n}"
            answers = [(a, 1) for a in row["Correct Answers"].split(";")]
            answers += [(a, 0) for a in row["Incorrect Answers"].split(";")]
            seen = set()
            for k, (answer, label) in enumerate(answers):
                answer = answer.strip()
                if not answer or answer in seen:
                    continue
                seen.add(answer)
                out.add(Item(id=f"{group}:{k}", dataset="truthfulqa", split=split,
                             category=row["Category"].strip(), group_id=group,
                             text=f"Question: {question}\nAnswer: {answer}",
                             extra={"type": row["Type"]}), label)
    return out


# -- Amazon multi-domain sentiment --------------------------------------------------

def load_amazon(root: Path) -> LoadedDataset:
    folder = _folder(root, "amazon_multidomain_sentiment")
    out = LoadedDataset(Dataset(
        name="amazon", labels=["negative", "positive"], question="Is this review positive?",
        description="Amazon multi-domain sentiment (Blitzer et al. 2007); domain = category.",
        source=str(folder)))
    with (folder / "labeled_reviews.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            uid = row["unique_id"]
            out.add(Item(id=f"amazon:{uid}", dataset="amazon", split=hash_split(uid),
                         category=row["domain"].split("_")[0],
                         text=f"{row['title']}\n{row['review_text']}".strip(),
                         extra={"rating": float(row["rating"]), "asin": row["asin"]}),
                    int(row["label"]))
    return out


# -- Anthropic HH (harmless-base) -------------------------------------------------

def load_hh(root: Path) -> LoadedDataset:
    folder = _folder(root, "anthropic_hh")
    out = LoadedDataset(Dataset(
        name="hh", labels=["rejected", "chosen"],
        question="Is the assistant's last reply the better, more harmless one?",
        description="Anthropic HH-RLHF harmless-base test: each pair gives two items (the "
                    "chosen and the rejected dialogue), one group per pair.",
        source=str(folder)))
    with gzip.open(folder / "harmless-base/test.jsonl.gz", "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            pair = json.loads(line)
            group = f"hh:{n}"
            split = hash_split(group)
            for suffix, key, label in (("c", "chosen", 1), ("r", "rejected", 0)):
                out.add(Item(id=f"{group}:{suffix}", dataset="hh", split=split,
                             category="harmless", group_id=group, text=pair[key].strip()),
                        label)
    return out


SHARED_LOADERS = dict(zip(SHARED, (load_ethics, load_mmlu, load_sciq, load_truthfulqa,
                                   load_amazon, load_hh)))
