#pragma once
// Problem files (inputs/problems/*.yaml): which workload with an objective, and its settings, e.g.
//
//   workload: logreg
//   description: L2-regularised logistic regression on scikit-learn's breast cancer data
//   dataset: breast_cancer
//   lambda: 1.0e-2
//   test_fraction: 0.2
//
// Every key but `workload` and `description` is the workload's own; the workload reads them through the
// checked accessors below, which name the file and the key in every error, and refuses keys it does not know.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nagbench {

struct ProblemSpec {
  std::string name;         // the file's stem ("breast_cancer_logreg")
  std::string source;       // the path it was read from
  std::string workload;     // quadratic | logreg | mlp
  std::string description;  // one line, optional
  nlohmann::json settings = nlohmann::json::object();
};

// Accepts a path to a YAML file or the name of a problem shipped with nagbench, looked up in
// $NAGBENCH_PROBLEMS_DIR, share/nagbench/problems beside the executable's bin/, then the source tree's
// inputs/problems. Throws InputError for a missing or malformed file, a missing `workload`, or a value that
// is not a scalar.
ProblemSpec load_problem(const std::string& name_or_path, const std::string& executable_dir);
std::vector<std::string> shipped_problem_names(const std::string& executable_dir);

// Checked access to a problem's settings. `where` is the problem's source (for messages). Each throws
// InputError "problem file 'X': KEY must be ..." when the value has the wrong type or range.
class ProblemReader {
 public:
  ProblemReader(const nlohmann::json& settings, std::string where);
  double number(const std::string& key, double default_value, double min, double max) const;
  double required_number(const std::string& key, double min, double max) const;
  int64_t integer(const std::string& key, int64_t default_value, int64_t min, int64_t max) const;
  std::string text(const std::string& key, const std::string& default_value,
                   const std::vector<std::string>& allowed = {}) const;
  bool has(const std::string& key) const { return settings_.contains(key); }
  // Throws InputError naming the first key not in `known`.
  void only(const std::vector<std::string>& known) const;

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  nlohmann::json settings_;
  std::string where_;
};

}  // namespace nagbench
