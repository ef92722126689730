# End-to-end tests of the ptycho program.  Each is a shell script under
# tests/cli/ run with PTYCHO (the program), WORK (a scratch directory) and
# SHARED_DATA (../shared/data), BUILD_DIR and SOURCE_DIR in its environment;
# 77 means skipped.
set(PTY_SHARED_DATA "${PROJECT_SOURCE_DIR}/../shared/data" CACHE PATH "shared real data (siemens-star-small.h5)")

function(pty_cli_test name script)
  cmake_parse_arguments(T "" "TIMEOUT" "LABELS" ${ARGN})
  set(work ${CMAKE_CURRENT_BINARY_DIR}/work/${name})
  add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/${script})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "PTYCHO=$<TARGET_FILE:ptycho>;MAKE_BAD_INPUTS=$<TARGET_FILE:make_bad_inputs>;WORK=${work};SHARED_DATA=${PTY_SHARED_DATA};MPIRUN=${MPIEXEC_EXECUTABLE};BUILD_DIR=${PROJECT_BINARY_DIR};SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    SKIP_RETURN_CODE 77 TIMEOUT ${T_TIMEOUT} LABELS "cli;${T_LABELS}")
  if("slow" IN_LIST T_LABELS OR "mpi" IN_LIST T_LABELS)
    # multi-threaded reconstructions must not share the cores with each other
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
endfunction()

pty_cli_test(cli.bad_input bad_input.sh)
pty_cli_test(cli.help help.sh)
pty_cli_test(sim.deterministic sim_deterministic.sh)
pty_cli_test(recon.sim_1mode recon_sim_1mode.sh TIMEOUT 900 LABELS slow)
pty_cli_test(recon.sim_3modes recon_sim_3modes.sh TIMEOUT 1200 LABELS slow)
pty_cli_test(recon.sim_poisson recon_sim_poisson.sh TIMEOUT 900 LABELS slow)
pty_cli_test(recon.siemens_star recon_siemens.sh TIMEOUT 1800 LABELS slow)
pty_cli_test(recon.batched_order recon_batched.sh TIMEOUT 1200 LABELS slow)
pty_cli_test(recon.defaults recon_defaults.sh TIMEOUT 1800 LABELS slow)
pty_cli_test(recon.independent recon_independent.sh TIMEOUT 1800 LABELS slow)
pty_cli_test(recon.smoke recon_smoke.sh)
pty_cli_test(recon.reproducible recon_reproducible.sh)
pty_cli_test(cli.bench bench.sh)
pty_cli_test(install.c_program install_c.sh TIMEOUT 600)
pty_cli_test(python.binding python_binding.sh TIMEOUT 600)
pty_cli_test(data.indep_defocus data_indep.sh TIMEOUT 900 LABELS slow)
pty_cli_test(frc.half_sets frc.sh TIMEOUT 900)
pty_cli_test(recon.flyscan_modes recon_flyscan.sh TIMEOUT 1800 LABELS slow)
pty_cli_test(recon.subpixel recon_subpixel.sh TIMEOUT 1800 LABELS slow)
pty_cli_test(recon.position_correction recon_positions.sh TIMEOUT 1800 LABELS slow)
pty_cli_test(live.replay replay.sh TIMEOUT 300)
pty_cli_test(live.follow live_follow.sh TIMEOUT 900)
pty_cli_test(faults.output faults_output.sh TIMEOUT 600)
pty_cli_test(faults.frames faults_frames.sh TIMEOUT 900)
pty_cli_test(faults.metadata faults_metadata.sh TIMEOUT 600)
pty_cli_test(faults.messages faults_messages.sh TIMEOUT 600)
pty_cli_test(formats.compressed compressed.sh TIMEOUT 300)

# Several ranks under mpirun (oversubscribed on small machines).  Labelled
# "mpi": the sanitizer build skips them (Open MPI's own allocations are not ours).
if(PTY_HAVE_MPI AND MPIEXEC_EXECUTABLE)
  pty_cli_test(mpi.sim_1mode mpi_1mode.sh TIMEOUT 1200 LABELS "slow;mpi")
  pty_cli_test(mpi.sim_3modes mpi_3modes.sh TIMEOUT 1800 LABELS "slow;mpi")
  pty_cli_test(mpi.p16 mpi_p16.sh TIMEOUT 1800 LABELS "slow;mpi")
  pty_cli_test(mpi.defaults mpi_defaults.sh TIMEOUT 1800 LABELS "slow;mpi")
  pty_cli_test(mpi.rank_failure mpi_failure.sh TIMEOUT 600 LABELS mpi)
  pty_cli_test(mpi.stitch mpi_stitch.sh TIMEOUT 600 LABELS mpi)
  pty_cli_test(mpi.follow mpi_follow.sh TIMEOUT 600 LABELS mpi)
  pty_cli_test(mpi.position_correction mpi_positions.sh TIMEOUT 1200 LABELS "slow;mpi")
endif()
