"""Chinese text analysis on real technical text (patent titles and CSL abstracts)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from techbridge.text import Analyzer, TermDictionary, extract_keywords, learn_terms, load_stopwords, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("鋰電池隔膜製備方法", "锂电池隔膜制备方法"),  # traditional → simplified
        ("ＬＥＤ交通信號燈，ＡＩ控制！", "led交通信号灯 ai控制"),  # full width, case, punctuation
        ("Li-ion 电池 3.5V、C++ 和 TCP/IP。", "li-ion 电池 3.5v c++ 和 tcp/ip"),  # keeps inner . - + /
        ("  多余   空白\n换行 ", "多余 空白 换行"),
    ],
)
def test_normalize_folds_width_script_case_and_punctuation(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_tokenize_real_patent_title_uses_search_mode_and_drops_stopwords() -> None:
    tokens = Analyzer().tokenize("一种锂离子电池隔膜的制备方法及其应用")
    assert {"锂离子", "离子", "电池", "隔膜", "制备", "应用"} <= set(tokens)
    assert not {"一种", "的", "及其"} & set(tokens)


def test_tokenize_traditional_and_simplified_give_the_same_terms() -> None:
    analyzer = Analyzer()
    simplified = analyzer.tokenize("基于人工智能的流体输送系统精确计量装置")
    traditional = analyzer.tokenize("基於人工智能的流體輸送系統精確計量裝置")
    assert simplified == traditional
    assert "流体" in simplified and "计量" in simplified


def test_tokenize_real_abstract_keeps_latin_terms_and_drops_numbers() -> None:
    text = "本文采用Navier-Stokes方程和K-ε两方程模型, 对2002～2005年家用空调贯流风机进行了数值模拟."
    tokens = Analyzer().tokenize(text)
    assert {"navier", "stokes", "方程", "空调", "风机", "数值", "模拟"} <= set(tokens)
    assert not any(t.isdigit() for t in tokens)
    assert "本文" not in tokens


def test_stopwords_are_shipped_as_package_data() -> None:
    stop = load_stopwords()
    assert {"的", "一种", "本发明", "the"} <= stop
    assert "电池" not in stop


def test_learned_dictionary_keeps_catalogue_compounds_whole(tmp_path) -> None:
    titles = [
        f"{prefix}数字孪生平台" for prefix in ("一种基于", "面向工厂的", "城市", "电网", "港口", "矿山")
    ]
    learned = learn_terms(titles, keywords=["固态电解质"], min_count=5, min_pmi=1.0)
    assert "数字孪生" in learned.terms
    assert "固态电解质" in learned.terms
    path = tmp_path / "terms.txt"
    learned.save(path)
    loaded = TermDictionary.load(path)
    assert loaded.terms == learned.terms
    assert "数字孪生" in loaded.analyzer(search_mode=False).tokenize("城市数字孪生系统")
    assert "数字孪生" not in Analyzer(search_mode=False).tokenize("城市数字孪生系统")


def test_extract_keywords_ranks_by_tf_idf_with_stable_ties() -> None:
    idf = {"电池": 2.0, "隔膜": 3.0, "方法": 0.1, "涂层": 3.0}
    assert extract_keywords(["电池", "隔膜", "电池", "方法", "涂层"], idf=idf.__getitem__, top_k=3) == [
        "电池",
        "隔膜",
        "涂层",
    ]


def test_jieba_initialises_quietly() -> None:
    code = "from techbridge.text import Analyzer; Analyzer().tokenize('锂电池隔膜')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == ""
    assert result.stdout == ""
