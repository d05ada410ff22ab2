"""Prompt lab (admins): edit the system prompt, save versions, score them on an evaluation set.

Prompt versions are files under agents/prompts/ (system.md is the one in use). Runs use
the evaluation runner on its own private store, so they never touch live orders.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from agents.desk import PROMPTS_DIR
from config import PROJECT_ROOT
from ui.access import require_admin
from ui.common import services_or_stop, sidebar
from ui.resources import settings

DATASETS = PROJECT_ROOT / "evals" / "datasets"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


def versions() -> list[Path]:
    return sorted(PROMPTS_DIR.glob("*.md"))


def editor() -> None:
    files = versions()
    chosen = st.selectbox("Prompt version", files, format_func=lambda p: p.stem)
    text = st.text_area("System prompt", chosen.read_text(encoding="utf-8"), height=320)
    name = st.text_input("Save as new version", placeholder="e.g. shorter-rules")
    if st.button("Save version"):
        if not NAME.match(name or ""):
            st.error("Use 1-41 lower-case letters, digits, '-' or '_' for the name.")
        elif (PROMPTS_DIR / f"{name}.md").exists():
            st.error(f"A version named {name!r} exists already; pick another name.")
        elif not text.strip():
            st.error("The prompt is empty.")
        else:
            (PROMPTS_DIR / f"{name}.md").write_text(text, encoding="utf-8")
            st.success(f"Saved agents/prompts/{name}.md")


def run() -> None:
    from evals.runner import run_eval

    st.subheader("Score a version")
    datasets = sorted(DATASETS.glob("*.jsonl"))
    left, middle, right = st.columns(3)
    dataset = left.selectbox("Dataset", datasets, format_func=lambda p: p.name)
    prompt = middle.selectbox("Version", versions(), format_func=lambda p: p.stem, key="run_prompt")
    providers = ["offline", *(["openai"] if settings().openai_api_key else [])]
    provider = right.selectbox("Provider", providers)
    if provider == "offline":
        st.info(
            "The offline model follows fixed rules and does not read the system prompt: "
            "every version scores the same with it. Configure OPENAI_API_KEY to compare prompts."
        )
    if not st.button("Run evaluation", type="primary"):
        return
    bar = st.progress(0.0, text="Starting…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"{done} of {total} cases")

    report = run_eval(
        dataset,
        provider=provider,
        prompt_path=prompt,
        progress=progress,
        embedder=services_or_stop().embedder,
    )
    key = f"{prompt.stem} · {provider} · {dataset.stem}"
    st.session_state.setdefault("eval_reports", {})[key] = report.categories()
    st.success(f"{key}: {report.passed}/{len(report.runs)} passed ({report.accuracy:.1%})")


def compare() -> None:
    reports: dict[str, dict[str, dict[str, float]]] = st.session_state.get("eval_reports", {})
    if not reports:
        return
    st.subheader("Compare runs")
    names = list(reports)
    left, right = st.columns(2)
    first = left.selectbox("Run A", names, index=0)
    second = right.selectbox("Run B", names, index=len(names) - 1)
    categories = list(dict.fromkeys([*reports[first], *reports[second]]))
    st.dataframe(
        [
            {
                "category": category,
                "A": reports[first].get(category, {}).get("accuracy"),
                "B": reports[second].get(category, {}).get("accuracy"),
            }
            for category in categories
        ],
        hide_index=True,
        column_config={
            "A": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            "B": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
        },
    )


require_admin()
st.title("Prompt lab")
editor()
run()
compare()
sidebar()
