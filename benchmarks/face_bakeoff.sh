#!/usr/bin/env bash
# The face-model bake-off: candidate recipes trained from scratch for the same CPU budget, then every
# snapshot measured alike (`ganstudio curve`). Run from the repository root, by hand:
#
#   bash benchmarks/face_bakeoff.sh                            # every candidate, then the curves
#   bash benchmarks/face_bakeoff.sh projected aegan_projected  # some, added to the curves already measured
#   BUDGET=45m LANES=2 bash benchmarks/face_bakeoff.sh         # shorter (minutes); LANES at a time, 1 thread each
#
# Then each candidate's last snapshot within the budget is evaluated (`ganstudio eval --skip-edits`: FD,
# precision / recall, SWD, attribute decisions with the noise inputs off, DCI / MIG where there is an encoder).
#
# Each candidate trains on one thread for BUDGET (default 90 minutes), stopped by SIGINT (which saves a
# snapshot); two at a time on a 2-core machine. Snapshots every 5 kimg are all kept, for the curves.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/bakeoff}
BUDGET=${BUDGET:-90m}
LANES=${LANES:-2}
DATA="synthfaces:64?n=100000&seed=0"
COMMON=(--data "$DATA" --resolution 64 --batch 32 --kimg 100000 --seed 0 --snapshot-kimg 5 --no-progress)
NARROW_G=(G.channel_base=1024 G.channel_max=128)  # the shipped generator's widths ...
NARROW=("${NARROW_G[@]}" D.channel_base=1024 D.channel_max=128)  # ... and its discriminator's
WIDE=(G.channel_base=2048 G.channel_max=256 D.channel_base=2048 D.channel_max=256)
# Projected GAN: D judges in a frozen feature network the project trains on real faces without labels
# (30 minutes on one thread, once, before the lanes; its time is not in a lane's budget, see the card)
FEATURES=$OUT/features-synthfaces64.safetensors
PROJECTED=(d_arch=projected_d "d_features=$FEATURES" d_lr=0.01 r1_gamma=0 augment=color,translation,cutout)

candidate() {  # name -> its training command's arguments after `ganstudio train`
  case "$1" in
    baseline)  # the shipped recipe: narrow at 32-64 px (16 and 32 channels), noise everywhere
      echo gan --arch stylegan --set "${NARROW[@]}" ;;
    wide)  # wide where it is cheap (256 channels at 4-8 px), twice as wide at 32-64 px, no noise above 16 px,
      # bf16 autocast (1.4x the images per second on an AVX-512 CPU)
      echo gan --arch stylegan --set "${WIDE[@]}" G.noise_max_res=16 amp=bf16 ;;
    aegan)  # the shipped widths and no noise above 16 px, trained with an encoder (pixel and latent
      # reconstruction every 4th step)
      echo aegan --arch stylegan --set "${NARROW[@]}" G.noise_max_res=16 E.channel_base=1024 E.channel_max=128 ;;
    aegan_labels)  # and w units tied to the 13 attribute labels and 23 factors (semi-supervised)
      echo aegan --arch stylegan --set "${NARROW[@]}" G.noise_max_res=16 E.channel_base=1024 E.channel_max=128 \
        ae_labels=1 ;;
    projected)  # the baseline's generator against a projected discriminator (hinge loss, DiffAugment, no R1)
      echo gan --arch stylegan --loss hinge --set "${NARROW_G[@]}" "${PROJECTED[@]}" ;;
    aegan_projected)  # aegan's generator and encoder against the projected discriminator
      echo aegan --arch stylegan --loss hinge --set "${NARROW_G[@]}" G.noise_max_res=16 E.channel_base=1024 \
        E.channel_max=128 "${PROJECTED[@]}" ;;
    cgan)  # the baseline's widths, no noise above 16 px, G and D told the 13 attribute labels (projection D):
      # a slider can then be one attribute of c switched, z and the other attributes kept
      echo cgan --arch stylegan --set "${NARROW[@]}" G.noise_max_res=16 ;;
    acgan)  # the same G told the labels; D without them, with an attribute head both players are scored by
      echo acgan --arch stylegan --set "${NARROW[@]}" G.noise_max_res=16 ;;
    *) echo "unknown candidate '$1'; known: ${CANDIDATES[*]}" >&2; return 2 ;;
  esac
}

run() {
  local name=$1 args
  args=$(candidate "$name")
  mkdir -p "$OUT/$name"
  echo "== $name: ganstudio --threads 1 train $args (for $BUDGET)"
  # shellcheck disable=SC2086  # the candidate's words are meant to split
  timeout -s INT "$BUDGET" ganstudio --threads 1 train $args "${COMMON[@]}" --out "$OUT/$name" \
    --set keep_snapshots=0 >"$OUT/$name.log" 2>&1 || true  # the budget's SIGINT ends it
}

CANDIDATES=(baseline wide aegan aegan_labels projected aegan_projected cgan acgan)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${CANDIDATES[@]}")
for name in "${names[@]}"; do candidate "$name" >/dev/null; done  # a typo fails before hours of training
if [[ " ${names[*]} " == *projected* ]] && [ ! -f "$FEATURES" ]; then
  mkdir -p "$OUT"
  ganstudio --threads 1 features train --data "synthfaces:64?n=20000&seed=0" --steps 2000 --out "$FEATURES" \
    >"$OUT/features.log" 2>&1
fi
for ((i = 0; i < ${#names[@]}; i += LANES)); do
  for name in "${names[@]:i:LANES}"; do run "$name" & done
  wait
done

runs=() labels=() lasts=()
for name in "${names[@]}"; do
  folder=$(ls -d "$OUT/$name"/*-synthfaces64-stylegan 2>/dev/null | sort | tail -n 1 || true)
  [ -n "$folder" ] && runs+=("$folder") && labels+=("$name")
done
minutes=${BUDGET%m}
ganstudio --threads 2 curve "${runs[@]}" --names "$(IFS=,; echo "${labels[*]}")" --n 1000 --every 3 \
  --until-minutes "$minutes" --out "$OUT/curve" --add  # the candidates measured before stay in the charts
for i in "${!runs[@]}"; do  # the newest snapshot made within the budget
  last=$(python - "${runs[$i]}" "$minutes" <<'PY'
import sys
from pathlib import Path
from ganstudio.metrics.curve import snapshots_of
print(snapshots_of(Path(sys.argv[1]), until_minutes=float(sys.argv[2]))[-1])
PY
)
  ganstudio --threads 2 eval --model "$last" --data "$DATA" --n 1000 --skip-edits --out "$OUT/evals/${labels[$i]}"
  lasts+=("${labels[$i]}=$last")
done
# seeds 0-7 of each candidate's last snapshot within the budget, side by side (psi 1, noise as the studio renders it)
python - "$OUT/samples-${minutes}min.png" "${lasts[@]}" <<'PY'
import sys
import torch
from ganstudio import checkpoint
from ganstudio.data import open_dataset
from ganstudio.imaging import make_grid, to_pils
from ganstudio.latents import z_from_seeds
tiles, captions = [], []
faces = open_dataset("synthfaces:64?n=8&seed=1")  # a conditional G is told these faces' labels
for item in sys.argv[2:]:
    name, path = item.split("=", 1)
    G = checkpoint.load(path, roles=["G_ema"])["G_ema"]
    c = torch.stack([faces[i][1] for i in range(8)]).float() if getattr(G, "c_dim", 0) else None
    with torch.no_grad():
        tiles += to_pils(G.synthesis(G.mapping(z_from_seeds(range(8), G.z_dim), c=c)))
    captions += [name] + [""] * 7
make_grid(tiles, columns=8, captions=captions).save(sys.argv[1])
print("wrote", sys.argv[1])
PY
