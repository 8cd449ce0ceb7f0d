#!/usr/bin/env python3
"""Export WordLlama's static token embeddings for analyze/embed.

WordLlama (github.com/dleemiller/WordLlama, MIT) ships, inside its PyPI
wheel, a 32,000-token embedding table ("l2_supercat": the Llama 2
tokenizer's vocabulary, trained for sentence similarity with average
pooling) and the tokenizer. analyze/embed reads a compact copy:

  - the first DIM dimensions (the table is Matryoshka-trained, so a prefix
    is itself an embedding; 128 of 256 loses nothing measurable in
    claim matching),
  - quantised to int8 with one float32 scale per token,
  - the vocabulary and the BPE merges in rank order,

gzip-compressed, little-endian:

  "TWEMB1\\n" | u32 vocab | u32 dim | u32 merges
  vocab x (u16 length, UTF-8 piece)
  merges x (u32 left, u32 right, u32 result)   in rank order
  vocab x f32 scale
  vocab x dim int8

Run from the repository root (needs pip and numpy; the wheel comes from PyPI):

  python3 scripts/export-embeddings.py --out analyze/embed/wordllama128.bin.gz \\
      --golden analyze/embed/testdata/golden.json

--golden also writes token ids and embeddings computed by the reference
tokenizer (Hugging Face `tokenizers`, installed by pip if missing), which
analyze/embed's tests compare against.
"""
import argparse
import glob
import gzip
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile

WHEEL = "wordllama==0.4.0.post1"
WEIGHTS = "wordllama/weights/l2_supercat_256.safetensors"
TOKENIZER = "wordllama/tokenizers/l2_supercat_tokenizer_config.json"

# Texts for the golden file: English, French, Vietnamese (with and without
# diacritics), numbers, emoji, rare words that fall back to bytes.
GOLDEN_TEXTS = [
    "Kids in cages",
    "A disturbing photograph depicts a small boy who was detained by ICE in 2018 being held in a cage.",
    "STOP POSING AS MY DAD EVERYONE KNOWS HE WOULD NOT KNOW HOW TO USE SOCIAL MEDIA",
    "Donald Trump has called global warming a hoax on multiple occasions",
    "L'école n'a pas fermé à cause du virus, a déclaré le ministre",
    "Ông Nguyễn Văn A nói rằng đã có 30 người chết",
    "ong nguyen van a noi rang da co 30 nguoi chet",
    "Estudiantes de La Plata celebrated reopening their stadium with a hologram show 🦁🔥",
    "zxqvbn ĳssel ǅemal 中文 ß ﬁnance",
    "e-cigarettes have 10x more cancer-causing agents than regular tobacco",
]


def words(s):
    return re.findall(r"\w+", s.lower())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--golden")
    ap.add_argument("--wheel", help="a downloaded wordllama wheel (default: pip download)")
    args = ap.parse_args()
    import numpy as np

    wheel = args.wheel
    tmp = tempfile.mkdtemp()
    if not wheel:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL], check=True)
        wheel = glob.glob(os.path.join(tmp, "wordllama-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        raw = z.read(WEIGHTS)
        tok_json = z.read(TOKENIZER)

    # safetensors: u64 header length, JSON header, data.
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + hlen])
    meta = header["embedding.weight"]
    start, end = meta["data_offsets"]
    dtype = {"F16": np.float16, "F32": np.float32}[meta["dtype"]]
    emb = np.frombuffer(raw[8 + hlen + start : 8 + hlen + end], dtype=dtype).reshape(meta["shape"]).astype(np.float32)
    emb = emb[:, : args.dim]

    tok = json.loads(tok_json)
    model = tok["model"]
    assert model["type"] == "BPE" and model["byte_fallback"], "unexpected tokenizer model"
    vocab = model["vocab"]
    pieces = [None] * len(vocab)
    for p, i in vocab.items():
        pieces[i] = p
    assert len(pieces) == emb.shape[0]
    merges = []
    for m in model["merges"]:
        a, b = m.split(" ") if isinstance(m, str) else m
        merges.append((vocab[a], vocab[b], vocab[a + b]))

    scale = np.abs(emb).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.round(emb / scale[:, None]), -127, 127).astype(np.int8)

    buf = io.BytesIO()
    buf.write(b"TWEMB1\n")
    buf.write(struct.pack("<III", len(pieces), args.dim, len(merges)))
    for p in pieces:
        b = p.encode("utf-8")
        buf.write(struct.pack("<H", len(b)))
        buf.write(b)
    for a, b, r in merges:
        buf.write(struct.pack("<III", a, b, r))
    buf.write(scale.astype("<f4").tobytes())
    buf.write(q.tobytes())
    with gzip.GzipFile(args.out, "wb", mtime=0) as f:
        f.write(buf.getvalue())

    if args.golden:
        try:
            from tokenizers import Tokenizer
        except ImportError:
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "tokenizers"], check=True)
            from tokenizers import Tokenizer
        t = Tokenizer.from_str(tok_json.decode("utf-8"))
        deq = q.astype(np.float32) * scale[:, None]
        cases = []
        for s in GOLDEN_TEXTS:
            ws = words(s)
            ids = [t.encode(w, add_special_tokens=False).ids for w in ws]
            # The whole text tokenised at once gives the same ids as its
            # words one by one when words are separated by single spaces.
            whole = t.encode(" ".join(ws), add_special_tokens=False).ids
            assert whole == [i for w in ids for i in w], s
            v = deq[[i for w in ids for i in w]].sum(axis=0) if ws else np.zeros(args.dim)
            n = np.linalg.norm(v)
            cases.append({"text": s, "words": ws, "ids": ids, "vec": [round(float(x), 6) for x in (v / n if n else v)]})
        with open(args.golden, "w") as f:
            json.dump({"wheel": WHEEL, "dim": args.dim, "cases": cases}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
