"""`lv datasets`: upload with labels, MVTec and folder imports, describe, entries."""

import json

from tests.helpers.data import png_bytes, synthetic_dataset


def write_pngs(folder, count, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"img-{index}.png").write_bytes(png_bytes((64, 64), seed=seed + index))
    return folder


def test_upload_describe_and_entries(lv, project_name, tmp_path, cleanup_projects):
    cleanup_projects.append(project_name)
    lv("projects", "create", project_name)
    good = write_pngs(tmp_path / "good", 3)
    bad = write_pngs(tmp_path / "bad", 2, seed=20)
    uploaded = lv("datasets", "upload", "-p", project_name, str(good), "--batch-size", "2")
    assert uploaded.exit_code == 0, uploaded.stderr
    assert uploaded.stdout.startswith("uploaded 3 images (0 already there) to train: 3 images, 3 normal")
    assert "uploading" in uploaded.stderr
    as_json = json.loads(lv("datasets", "upload", "-p", project_name, str(bad), "--label", "anomaly", "--json").stdout)
    assert as_json["ImageStats"] == {"Total": 5, "Labeled": 5, "Normal": 3, "Anomaly": 2}
    assert all(image["Label"] == "anomaly" for image in as_json["Images"])

    described = json.loads(lv("datasets", "describe", "-p", project_name, "--json").stdout)
    assert described["Status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    lines = json.loads(lv("datasets", "entries", "-p", project_name, "--anomaly-class", "anomaly", "--json").stdout)
    assert [line["anomaly-label"] for line in lines] == [1, 1]
    table = lv("datasets", "entries", "-p", project_name, "--limit", "2").stdout.splitlines()
    assert table[0].split() == ["SOURCE", "LABEL", "CLASS", "MASK"]
    assert len(table) == 3


def test_import_local_mvtec_and_folders(lv, project_name, tmp_path, cleanup_projects):
    cleanup_projects.append(project_name)
    lv("projects", "create", project_name)
    root = synthetic_dataset(tmp_path, n_train=3, n_test_good=2, n_test_defect=1, size=64)
    imported = lv("datasets", "import", "-p", project_name, str(root), "--json")
    assert imported.exit_code == 0, imported.stderr
    results = json.loads(imported.stdout)
    assert results["train"]["ImageStats"]["Normal"] == 3
    assert results["test"]["ImageStats"]["Normal"] == 2
    assert results["test"]["ImageStats"]["Anomaly"] >= 1

    tree = tmp_path / "tree"
    write_pngs(tree / "normal", 2, seed=40)
    write_pngs(tree / "anomaly" / "dent", 1, seed=50)
    folders = lv("datasets", "import", "-p", project_name, str(tree), "--layout", "folders", "--type", "test")
    assert folders.exit_code == 0, folders.stderr
    assert folders.stdout.startswith("test: ")
    stats = json.loads(lv("datasets", "describe", "-p", project_name, "--type", "test", "--json").stdout)["ImageStats"]
    assert stats["Normal"] == 4


def test_bad_input_is_a_one_line_error(lv, project_name, tmp_path, cleanup_projects):
    cleanup_projects.append(project_name)
    lv("projects", "create", project_name)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    refused = lv("datasets", "upload", "-p", project_name, str(tmp_path / "broken.png"))
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-1].startswith("Error: ValidationException")
    not_a_tree = lv("datasets", "import", "-p", project_name, str(tmp_path), "--layout", "folders")
    assert not_a_tree.exit_code == 1
    assert "neither a normal/ nor an anomaly/ folder" in not_a_tree.stderr


def test_create_from_a_manifest_waits_for_its_lines(lv, server, project_name, cleanup_projects):
    from tests.helpers.manifests import StorageWriter, manifest_line

    cleanup_projects.append(project_name)
    lv("projects", "create", project_name)
    storage = StorageWriter(server.context.store, f"cli-manifests/{project_name}")
    good = manifest_line(storage.put("good.png", png_bytes(seed=700)), "normal")
    key = storage.put_manifest("ok", [good])["GroundTruthManifest"]["S3Object"]["Key"]
    created = lv("datasets", "create", "-p", project_name, "--manifest", f"s3://{storage.store.bucket}/{key}")
    assert created.exit_code == 0, created.stderr
    assert created.stdout.strip() == f"created train dataset of {project_name}: CREATE_COMPLETE"

    bad = {"source-ref": storage.put("bad.png", png_bytes(seed=701)), "job-label": 1}
    key = storage.put_manifest("bad", [good, bad])["GroundTruthManifest"]["S3Object"]["Key"]
    uri = f"s3://{storage.store.bucket}/{key}"
    refused = lv("datasets", "create", "-p", project_name, "--type", "test", "--manifest", uri)
    assert refused.exit_code == 1
    assert "CREATE_FAILED" in refused.stderr and "line 2" in refused.stderr and "no label found" in refused.stderr
