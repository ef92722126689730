# mpi_common.sh - helpers for the multi-rank tests (sourced after common.sh).
# Ranks run on the CPU backend, oversubscribed (more ranks than cores), one
# OpenMP thread each so that ranks do not fight over the cores.
: "${MPIRUN:?MPIRUN must point at mpirun}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1
# mpi_recon P ARGS...: ptycho recon on P ranks (killed after MPI_TIMEOUT s: a hang fails, never blocks)
mpi_recon() {
  local np=$1
  shift
  timeout "${MPI_TIMEOUT:-900}" "$MPIRUN" --oversubscribe --mca btl self,vader -np "$np" "$PTYCHO" recon --backend cpu --threads 1 "$@"
}

# scaling_case NAME MODES P...: for each P and mode, NRMSE <= 1.25 x the
# single-rank NRMSE, and no seam (NRMSE within 8 px of the block borders
# <= 1.5 x the NRMSE elsewhere).
scaling_case() {
  local scan=$1 modes=$2 iters=$3
  shift 3
  "$PTYCHO" recon --input "$scan" --output ref --modes "$modes" --iterations "$iters" --backend cpu --threads 1 \
    --print-every 1000 --no-tiff || exit 1
  "$PTYCHO" compare ref.h5 "$scan" | tee cmp_ref.txt
  local ref
  ref=$(value_of nrmse cmp_ref.txt)
  for np in "$@"; do
    for mode in async sync; do
      mpi_recon "$np" --input "$scan" --output "r_${mode}_$np" --modes "$modes" --iterations "$iters" --mpi-mode "$mode" \
        --print-every 1000 --no-tiff | grep -E "merge|done|partition" || { fail "$mode P=$np: recon failed"; continue; }
      "$PTYCHO" compare "r_${mode}_$np.h5" "$scan" --seam-band 8 | tee "cmp_${mode}_$np.txt"
      local n seam away
      n=$(value_of nrmse "cmp_${mode}_$np.txt")
      seam=$(value_of nrmse_seam "cmp_${mode}_$np.txt")
      away=$(value_of nrmse_away "cmp_${mode}_$np.txt")
      check "$mode P=$np, $modes mode(s): NRMSE <= 1.25 x single rank" "x <= 1.25 * y" "$n" "$ref"
      check "$mode P=$np, $modes mode(s): seam NRMSE <= 1.5 x away" "x <= 1.5 * y" "$seam" "$away"
    done
  done
}
