#!/usr/bin/env bash
# check_layers.sh [ROOT] - includes point only downward (ARCHITECTURE.md).
#
# A file's layer is its folder: src/<layer>/, stitch/, kernels/, ptycho/.
# Each layer lists the layers its files may include (its own always);
# a quoted include of a project header from any other layer is reported
# with the file, the line and the two layers, and the script exits 1.
# Headers are found by name, so two project headers may not share a name.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

declare -A may=(
  [base]=""
  [formats]="base"
  [model]="base formats"
  [sim]="base formats model"
  [engine]="base model"
  [stitch]="base"
  [io]="base formats model sim"
  [parallel]="base formats model engine stitch io"
  [results]="base formats model sim engine stitch io parallel"
  [live]="base formats model sim engine stitch io parallel results"
  [kernels]="base model engine"
  [options]="base formats model sim engine stitch io parallel"
  [api]="base formats model sim engine stitch io parallel results options"
  [ptycho]="base formats model sim engine stitch io parallel results live options"
)

layer_of() { # path -> layer name
  case $1 in
    src/*/*) local d=${1#src/}; echo "${d%%/*}" ;;
    stitch/*) echo stitch ;;
    kernels/*) echo kernels ;;
    ptycho/*) echo ptycho ;;
  esac
}

declare -A home # header name -> layer
files=$(ls src/*/*.[ch] stitch/*.[ch] kernels/*.cu kernels/*.cuh kernels/*.h ptycho/*.[ch] 2>/dev/null)
status=0
for f in $files; do
  l=$(layer_of "$f")
  if [ -z "${may[$l]+set}" ]; then
    echo "check_layers: $f is in folder '$l', which is not a known layer (add it to this script and ARCHITECTURE.md)"
    status=1
    continue
  fi
  case $f in
    *.h | *.cuh)
      b=$(basename "$f")
      if [ -n "${home[$b]+set}" ] && [ "${home[$b]}" != "$l" ]; then
        echo "check_layers: header name $b is used in two layers (${home[$b]} and $l)"
        status=1
      fi
      home[$b]=$l
      ;;
  esac
done

violations=0
for f in $files; do
  l=$(layer_of "$f")
  [ -n "${may[$l]+set}" ] || continue
  while IFS=: read -r line inc; do
    inc=${inc#*\"}
    inc=${inc%%\"*}
    to=${home[$(basename "$inc")]-}
    [ -z "$to" ] && continue # not a project header
    [ "$to" = "$l" ] && continue
    case " ${may[$l]} " in
      *" $to "*) ;;
      *)
        echo "check_layers: $f:$line includes \"$inc\" from layer '$to', which layer '$l' may not use (allowed: ${may[$l]:-none})"
        violations=$((violations + 1))
        ;;
    esac
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
done
[ "$violations" -gt 0 ] && status=1
n=$(echo "$files" | wc -w)
if [ "$status" -eq 0 ]; then
  echo "check_layers: $n files, every include points down or within its layer"
fi
exit $status
