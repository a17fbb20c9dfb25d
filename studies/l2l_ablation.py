# Quadratic L2L benchmark with another LSTM preprocessing / output scale (docs/update_rules.md):
#   PYTHONPATH=. python studies/l2l_ablation.py log_sign 10 0.1 > studies/results/l2l_ablation/quadratic_logsign_p10_scale0.1.json
# Same numbers as: cp profiles/l2l.yaml params.yaml && dvc exp run -S "l2l.problems=[quadratic]" -S l2l.optimiser.preprocess=log_sign -S l2l.optimiser.p=10 -S l2l.optimiser.output_scale=0.1
import sys, json
from pipeline.l2l.config import L2LConfig, LSTMOptimiserConfig
from pipeline.l2l.benchmark import run_benchmark
pre, p, scale = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
cfg = L2LConfig(problems=("quadratic",), optimiser=LSTMOptimiserConfig(preprocess=pre, p=p, output_scale=scale))
r = run_benchmark("quadratic", cfg, None, progress=False)
out = {m: (round(v["final_mean"], 4), round(v["final_std"], 4)) for m, v in r["methods"].items()}
print(json.dumps({"preprocess": pre, "p": p, "scale": scale, "final": out, "tuned": r["tuned_lr"],
                  "meta_first_last": [r["meta_history"][0], r["meta_history"][-1]]}))
