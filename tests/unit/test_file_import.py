"""A user's own file: good files import, and every kind of bad input is named
(file, row, field), exits non-zero and leaves the database exactly as before."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from w2s.cli.main import app
from w2s.store import Store
from w2s.store.datasets import Columns, DataError, load_file
from w2s.store.gold import read_gold

from conftest import snapshot

runner = CliRunner()


def w2s(workspace, *args):
    return runner.invoke(app, ["-w", str(workspace), *args])


def write(path, text, mode="w"):
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


GOOD_CSV = "id,text,label,category\n1,great product,pos,kitchen\n2,\"broke, after\na day\",neg,kitchen\n3,fine,,books\n"


def test_csv_with_label_names_imports(tmp_path):
    ws = tmp_path / "ws"
    f = write(tmp_path / "reviews.csv", GOOD_CSV)
    r = w2s(ws, "data", "import", str(f), "--labels", "neg,pos", "--question", "Positive?")
    assert r.exit_code == 0, r.output
    with Store.in_workspace(ws) as s:
        items = s.items("reviews")
        assert [i.id for i in items] == ["reviews:1", "reviews:2", "reviews:3"]
        assert items[1].text == "broke, after\na day"
        assert {i.category for i in items} == {"kitchen", "books"}
        assert read_gold(s, dataset="reviews") == {"reviews:1": 1, "reviews:2": 0}  # 3 unlabeled
        assert s.dataset("reviews").labels == ["neg", "pos"]


def test_jsonl_json_tsv_and_parquet_import(tmp_path):
    rows = [{"uid": "a", "body": "x", "y": 1, "extra": 5}, {"uid": "b", "body": "y", "y": 0, "extra": 6}]
    cols = Columns(id="uid", text="body", label="y")
    write(tmp_path / "d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    write(tmp_path / "d.json", json.dumps(rows))
    write(tmp_path / "d.tsv", "uid\tbody\ty\textra\na\tx\t1\t5\nb\ty\t0\t6\n")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    for ext in ("jsonl", "json", "tsv", "parquet"):
        loaded = load_file(tmp_path / f"d.{ext}", "d", cols)
        assert [(i.id, i.text, i.category) for i in loaded.items] == [
            ("d:a", "x", "default"), ("d:b", "y", "default")], ext
        assert [g.label for g in loaded.gold] == [1, 0]
        assert str(loaded.items[0].extra["extra"]) == "5"


def test_no_id_column_uses_the_row_number(tmp_path):
    loaded = load_file(write(tmp_path / "t.csv", "text\nhello\nworld\n"), "t")
    assert [i.id for i in loaded.items] == ["t:1", "t:2"] and loaded.gold == []


BAD = [
    ("missing.csv", None, [], "no such file", None, None),
    ("a.csv", "id,text,label\n1,ok,1\n2,\"unterminated,1\n", [], "malformed CSV", None, None),
    ("a.csv", "id,text,label\n1,ok,1\n2,too,many,1\n", [], "has 4 fields", 2, None),
    ("a.csv", "id,text,label\n1,ok,1\n", ["--text-col", "body"], "no such column", None, "body"),
    ("a.csv", "id,body\n1,ok\n", [], "no such column", None, "text"),
    ("a.csv", "id,text,label\n1,ok,1\n2,meh,maybe\n", [], "not in the label set", 2, "label"),
    ("a.csv", "id,text,label\n1,ok,1\n1,again,0\n", [], "duplicate id '1'", 2, "id"),
    ("a.csv", "id,text,label\n1,ok,1\n2,  ,0\n", [], "text is empty", 2, "text"),
    ("a.csv", b"id,text,label\n1,ok,1\n2,caf\xe9,0\n", [], "not valid UTF-8", 2, "text"),
    ("a.csv", "", [], "empty", None, None),
    ("a.jsonl", '{"id": 1, "text": "ok"}\n{"id": 2, "text": \n', [], "invalid JSON", 2, None),
    ("a.jsonl", '{"id": 1, "text": "ok"}\n[1, 2]\n', [], "JSON object", 2, None),
    ("a.jsonl", '{"id": 1, "text": "ok"}\n{"id": 2}\n', [], "missing in this row", 2, "text"),
    ("a.json", '{"id": 1}', [], "one array", None, None),
    ("a.parquet", b"PAR1 not really", [], "Parquet", None, None),
    ("a.xml", "<x/>", [], "unknown format", None, None),
    # a split no campaign or experiment reads would leave its rows silently unused
    ("a.csv", "id,text,split\n1,ok,train\n2,meh,validation\n", [], "neither train nor test", 2,
     "split"),
]


@pytest.mark.parametrize("name,content,args,message,row,field", BAD,
                         ids=[f"{b[0]}:{b[3]}" for b in BAD])
def test_bad_input_is_named_and_changes_nothing(tmp_path, name, content, args, message, row,
                                                field):
    ws = tmp_path / "ws"
    assert w2s(ws, "data", "import", "builtin").exit_code == 0
    before = snapshot(ws / "w2s.duckdb")
    path = tmp_path / name
    if content is not None:
        write(path, content, "wb" if isinstance(content, bytes) else "w")
    r = w2s(ws, "data", "import", str(path), *args)
    assert r.exit_code == 2, r.output
    out = " ".join(r.output.split())
    assert message in out and str(path) in out.replace(" ", "") or message in out, out
    if row is not None:
        assert f"row {row}" in out, out
    if field is not None:
        assert f"field '{field}'" in out, out
    assert snapshot(ws / "w2s.duckdb") == before


def test_same_text_with_two_labels_is_imported_with_a_warning_naming_both_rows(tmp_path):
    ws = tmp_path / "ws"
    f = write(tmp_path / "d.csv", "id,text,label,split\n1,sky is blue,yes,Train\n"
                                  "2,grass is red,no,test\n3,sky is blue,no,train\n")
    r = w2s(ws, "data", "import", str(f))
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "warning" in out and "rows 1 and 3 have the same text and different labels" in out
    with Store.in_workspace(ws) as s:
        assert [i.split for i in s.items("d")] == ["train", "test", "train"]  # case folded


def test_workspace_option_goes_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = tmp_path / "ws"
    f = write(tmp_path / "d.csv", "id,text,label\n1,ok,yes\n")
    for args in (["data", "import", str(f), "-w", str(ws)],
                 ["data", "list", "--workspace", str(ws)], ["data", f"--workspace={ws}", "list"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and "No such option" not in r.output, (args, r.output)
    assert not (tmp_path / "w2s-workspace").exists()
    with Store.in_workspace(ws) as s:
        assert [d.name for d in s.datasets()] == ["d"]


def test_data_error_names_file_row_and_field(tmp_path):
    f = write(tmp_path / "x.csv", "id,text,label\n1,ok,yes\n2,ok,perhaps\n")
    with pytest.raises(DataError) as e:
        load_file(f, "x")
    assert (e.value.file, e.value.row, e.value.field) == (str(f), 2, "label")
    assert str(e.value).startswith(f"{f}, row 2, field 'label': label 'perhaps'")


def test_unknown_dataset_name_and_missing_shared_folder(tmp_path):
    r = w2s(tmp_path / "ws", "data", "import", "ethics", "--data-dir", str(tmp_path / "nope"))
    assert r.exit_code == 2 and "data-dir" in r.output
