#include "nagbench/workload/model.hpp"

#include <yaml-cpp/yaml.h>

#include <dirent.h>
#include <sys/stat.h>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "nagbench/core/errors.hpp"

#ifndef NAGBENCH_SOURCE_MODELS_DIR
#define NAGBENCH_SOURCE_MODELS_DIR ""
#endif

namespace nagbench {
namespace {

bool is_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> model_dirs(const std::string& exe_dir) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("NAGBENCH_MODELS_DIR")) dirs.emplace_back(env);
  if (!exe_dir.empty()) dirs.push_back(exe_dir + "/../share/nagbench/models");
  if (std::string(NAGBENCH_SOURCE_MODELS_DIR).size()) dirs.emplace_back(NAGBENCH_SOURCE_MODELS_DIR);
  return dirs;
}

ModelSpec parse_model_file(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw InputError("malformed model file '" + path + "': " + e.msg + " (line " +
                     std::to_string(e.mark.line + 1) + ")");
  }
  const auto where = [&](const std::string& what) { return "model file '" + path + "': " + what; };
  if (!root.IsMap()) throw InputError(where("expected a mapping with 'name' and 'tensors'"));
  ModelSpec m;
  m.source = path;
  try {
    m.name = root["name"] ? root["name"].as<std::string>() : std::string();
    m.description = root["description"] ? root["description"].as<std::string>() : std::string();
  } catch (const YAML::Exception&) {
    throw InputError(where("'name' and 'description' must be strings"));
  }
  if (m.name.empty()) throw InputError(where("missing 'name'"));
  const YAML::Node tensors = root["tensors"];
  if (!tensors || !tensors.IsSequence() || tensors.size() == 0)
    throw InputError(where("'tensors' must be a non-empty list"));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const YAML::Node t = tensors[i];
    const std::string at = "tensor #" + std::to_string(i + 1);
    if (!t.IsMap() || !t["shape"] || !t["shape"].IsSequence() || t["shape"].size() == 0)
      throw InputError(where(at + " needs a non-empty 'shape' list"));
    TensorSpec spec;
    spec.name = t["name"] ? t["name"].as<std::string>() : at;
    int64_t numel = 1;
    for (const auto& d : t["shape"]) {
      int64_t v = 0;
      try {
        v = d.as<int64_t>();
      } catch (const YAML::Exception&) {
        throw InputError(where(at + " ('" + spec.name + "') has a non-integer dimension"));
      }
      if (v <= 0) throw InputError(where(at + " ('" + spec.name + "') has a dimension <= 0"));
      if (numel > std::numeric_limits<int64_t>::max() / v) throw InputError(where(at + " is too large"));
      spec.shape.push_back(v);
      numel *= v;
    }
    spec.numel = numel;
    m.params += numel;
    m.tensors.push_back(std::move(spec));
  }
  return m;
}

}  // namespace

ModelSpec load_model(const std::string& name_or_path, const std::string& exe_dir) {
  if (name_or_path.empty()) throw InputError("empty model name");
  const bool looks_like_path = name_or_path.find('/') != std::string::npos ||
                               name_or_path.find(".yaml") != std::string::npos ||
                               name_or_path.find(".yml") != std::string::npos;
  if (looks_like_path) {
    if (!is_file(name_or_path)) throw InputError("model file '" + name_or_path + "' not found");
    return parse_model_file(name_or_path);
  }
  for (const auto& dir : model_dirs(exe_dir)) {
    const std::string p = dir + "/" + name_or_path + ".yaml";
    if (is_file(p)) return parse_model_file(p);
  }
  std::string known;
  for (const auto& n : shipped_model_names(exe_dir))
    known += (known.empty() ? "" : ", ") + n;
  throw InputError("unknown model '" + name_or_path + "' (shipped: " +
                   (known.empty() ? "none found" : known) + "; or give a path to a .yaml file)");
}

ModelSpec flat_model(int64_t n) {
  if (n <= 0) throw InputError("--params must be > 0 (got " + std::to_string(n) + ")");
  ModelSpec m;
  m.name = "flat_" + std::to_string(n);
  m.description = "one flat tensor";
  m.source = "--params " + std::to_string(n);
  m.tensors.push_back({"flat", {n}, n});
  m.params = n;
  return m;
}

std::vector<std::string> shipped_model_names(const std::string& exe_dir) {
  std::vector<std::string> names;
  for (const auto& dir : model_dirs(exe_dir)) {
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      std::string f = e->d_name;
      if (f.size() > 5 && f.compare(f.size() - 5, 5, ".yaml") == 0)
        names.push_back(f.substr(0, f.size() - 5));
    }
    closedir(d);
    if (!names.empty()) break;
  }
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json to_json(const ModelSpec& m) {
  nlohmann::json t = nlohmann::json::array();
  for (const auto& s : m.tensors)
    t.push_back({{"name", s.name}, {"shape", s.shape}});
  return {{"name", m.name}, {"description", m.description}, {"source", m.source}, {"tensors", t}};
}

ModelSpec model_from_json(const nlohmann::json& j) {
  ModelSpec m;
  m.name = j.at("name").get<std::string>();
  m.description = j.at("description").get<std::string>();
  m.source = j.at("source").get<std::string>();
  for (const auto& t : j.at("tensors")) {
    TensorSpec s;
    s.name = t.at("name").get<std::string>();
    s.shape = t.at("shape").get<std::vector<int64_t>>();
    s.numel = 1;
    for (auto d : s.shape)
      s.numel *= d;
    m.params += s.numel;
    m.tensors.push_back(std::move(s));
  }
  return m;
}

}  // namespace nagbench
