"""Writes ``data/chatterbot_en.json`` from the English files of the chatterbot-corpus
wheel (BSD 3-Clause): ``python -m benchmarks.chat.make_data WHEEL_OR_FOLDER``.

Run once by hand (the JSON is committed, the benchmark never downloads anything); kept
so the data's making can be checked and redone. The wheel came from PyPI with
``pip download --no-deps chatterbot-corpus==1.3.3``.

Each question/answer pair of the knowledge-like categories becomes a question and a
passage (its answer). Skipped: the greetings, small-talk (conversations) and jokes
(humor) files, whose answers are not knowledge, answers of fewer than 3 words and
questions of fewer than 2. Identical answers are one passage; a question asked more
than once in a category (``tech_support`` repeats its ten 100 times) is one question
whose right passages are all its answers.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parent / "data" / "chatterbot_en.json"
SKIP = {"greetings", "conversations", "humor"}
PREFIX = "chatterbot_corpus/data/english/"


def _files(source: Path) -> dict[str, str]:
    if source.is_dir():
        folder = source / PREFIX
        return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yml"))}
    with zipfile.ZipFile(source) as z:
        return {
            Path(n).stem: io.TextIOWrapper(z.open(n), encoding="utf-8").read()
            for n in sorted(z.namelist())
            if n.startswith(PREFIX) and n.endswith(".yml")
        }


def main(source: str) -> None:
    passages: dict[str, dict] = {}
    questions: dict[tuple[str, str], dict] = {}
    answers: dict[tuple[str, str], set[int]] = defaultdict(set)
    for category, raw in _files(Path(source)).items():
        if category in SKIP:
            continue
        for pair in yaml.safe_load(raw).get("conversations", []):
            if len(pair) < 2 or not all(isinstance(x, str) for x in pair[:2]):
                continue
            question, answer = " ".join(pair[0].split()), pair[1].strip()
            if len(answer.split()) < 3 or len(question.split()) < 2:
                continue
            if answer not in passages:
                passages[answer] = {"id": len(passages), "category": category, "text": answer}
            key = (category, question.casefold())
            questions.setdefault(key, {"text": question, "category": category})
            answers[key].add(passages[answer]["id"])
    data = {
        "source": "chatterbot-corpus 1.3.3 (PyPI wheel), data/english/*.yml",
        "license": "BSD 3-Clause, Copyright (c) 2016 Gunther Cox",
        "passages": list(passages.values()),
        "questions": [{**q, "answers": sorted(answers[k])} for k, q in questions.items()],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(data['passages'])} passages, {len(data['questions'])} questions -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
