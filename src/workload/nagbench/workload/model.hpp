#pragma once
// A synthetic model: the list of parameter tensor sizes of a real network, read from inputs/models/*.yaml.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nagbench {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel = 0;
};

struct ModelSpec {
  std::string name;
  std::string description;
  std::string source;  // file it came from, or "--params N"
  std::vector<TensorSpec> tensors;
  int64_t params = 0;
};

// Accepts a path to a YAML file or the name of a model shipped with nagbench ("vit_l_16"), looked up in
// $NAGBENCH_MODELS_DIR, then share/nagbench/models beside the executable's bin/, then the source tree's
// inputs/models. Throws InputError for a missing or malformed file.
ModelSpec load_model(const std::string& name_or_path, const std::string& executable_dir);

// One flat tensor of n parameters (`--params N`). Throws InputError for n <= 0.
ModelSpec flat_model(int64_t n);

std::vector<std::string> shipped_model_names(const std::string& executable_dir);

nlohmann::json to_json(const ModelSpec& m);
ModelSpec model_from_json(const nlohmann::json& j);

}  // namespace nagbench
