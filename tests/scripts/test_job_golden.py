"""The batch jobs nagbench-sweep writes, for every scheduler and launcher (the committed system files on the GPU
sweep): byte-for-byte equal to the golden files in tests/scripts/golden/, valid bash, shellcheck clean, and holding
what a cluster needs (GPU visibility, binding, NCCL_NVLS_ENABLE=0, the log folder). After a deliberate change to
the templates: NAGBENCH_UPDATE_GOLDEN=1 (this test rewrites the golden files; review the diff, commit it)."""
import os
import shutil
import subprocess

import pytest

from helpers import HERE, REPO, SWEEP, run

SPEC = os.path.join("inputs", "sweeps", "gpu-scaling.yaml")
GOLDEN = os.path.join(HERE, "golden")
SYSTEMS = ["slurm-gpu", "pbs-openmpi", "pbs-pals", "lsf-jsrun", "lsf-openmpi", "flux-gpu"]
# What each job must say to its scheduler and launcher (besides the shared sweep logic).
MUST = {
    "slurm-gpu": ["#SBATCH --gpus-per-node=4", "#SBATCH --output=/scratch/nagbench/gpu-scaling/logs/%x-%j.out",
                  "#SBATCH --account=abc123", "#SBATCH --partition=gpu", "#SBATCH --time=02:00:00",
                  "srun --nodes=\"$nodes\" --ntasks=\"$ranks\"", "--cpu-bind=cores", "--gpus-per-node=4",
                  "module load cuda/12.4", "export NCCL_DEBUG=WARN"],
    "pbs-openmpi": ["#PBS -l select=1:ncpus=64:mpiprocs=4:ompthreads=16:ngpus=4", "#PBS -A abc123", "#PBS -q gpu",
                    "--map-by \"ppr:$per_node:node:PE=$threads\" --bind-to core", "-x NCCL_NVLS_ENABLE",
                    "PBS_NODEFILE"],
    "pbs-pals": ["#PBS -l select=1", "#PBS -l filesystems=home:eagle", "mpiexec -n \"$ranks\" --ppn \"$per_node\" "
                 "--depth \"$threads\" --cpu-bind depth", "--env NCCL_NVLS_ENABLE=0"],
    "lsf-jsrun": ["#BSUB -nnodes 1", "#BSUB -P ABC123", "#BSUB -W 01:00", "jsrun --nrs \"$nodes\" --rs_per_host 1",
                  "--gpu_per_rs 6", "-E NCCL_NVLS_ENABLE=0"],
    "lsf-openmpi": ["#BSUB -n 4", "#BSUB -gpu \"num=4\"", "LSB_DJOB_HOSTFILE", "--bind-to core"],
    "flux-gpu": ["# flux: -N 1", "# flux: --bank=guests", "# flux: --queue=pbatch", "# flux: -t 60m",
                 "flux run -N \"$nodes\" -n \"$ranks\"", "--gpus-per-task=1", "-o gpu-affinity=on",
                 "-o cpu-affinity=per-task"],
}


def render(system):
    res = run(SWEEP, "job", SPEC, "--system", os.path.join("inputs", "sweeps", "systems", system + ".yaml"),
              "--nagbench", "/opt/nagbench/bin/nagbench", "--out", "/scratch/nagbench/gpu-scaling", "--dry-run")
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("system", SYSTEMS)
def test_job_equals_golden(system):
    text = render(system)
    path = os.path.join(GOLDEN, f"{system}.sh")
    if os.environ.get("NAGBENCH_UPDATE_GOLDEN") == "1":
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
    with open(path) as fh:
        assert text == fh.read(), f"{path} differs; if the change is meant, NAGBENCH_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("system", SYSTEMS)
def test_job_says_what_the_cluster_needs(system, tmp_path):
    text = render(system)
    for s in MUST[system] + ["export NCCL_NVLS_ENABLE=0", "OMP_PROC_BIND=spread OMP_PLACES=cores"]:
        assert s in text, s
    points = [l.split() for l in text.splitlines() if l.startswith("point ")]
    assert len(points) == 66
    for words in points:  # jobs show nagbench's progress lines; the job adds --tag and --output itself
        assert not {"-q", "--quiet", "--tag", "--output", "-o"} & set(words), words
    job = tmp_path / "job.sh"
    job.write_text(text)
    assert subprocess.run(["bash", "-n", str(job)]).returncode == 0


@pytest.mark.parametrize("system", SYSTEMS)
def test_job_is_shellcheck_clean(system, tmp_path):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (Debian package shellcheck)")
    job = tmp_path / "job.sh"
    job.write_text(render(system))
    res = subprocess.run(["shellcheck", str(job)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout


def test_job_writes_the_log_folder_and_says_how_to_submit(tmp_path):
    res = run(SWEEP, "job", SPEC, "--system", os.path.join(REPO, "inputs", "sweeps", "systems", "slurm-gpu.yaml"),
              "--nagbench", "/opt/nagbench/bin/nagbench", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "o" / "logs").is_dir()  # Slurm opens --output before the script runs
    assert os.access(tmp_path / "o" / "job-slurm.sh", os.X_OK)
    assert "submit with: sbatch " in res.stdout
