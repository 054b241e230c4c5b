#include "nagbench/workload/problem.hpp"

#include <yaml-cpp/yaml.h>

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/provenance.hpp"

namespace nagbench {
namespace {

bool is_regular_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> problem_dirs(const std::string& exe_dir) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("NAGBENCH_PROBLEMS_DIR")) dirs.emplace_back(env);
  const std::string bin = exe_dir.empty() ? executable_dir() : exe_dir;
  if (!bin.empty()) dirs.push_back(bin + "/../share/nagbench/problems");
  return dirs;
}

// A YAML scalar as JSON: integers and reals as numbers, true/false as booleans, anything else as a string.
nlohmann::json scalar_to_json(const YAML::Node& n) {
  const std::string text = n.Scalar();
  if (n.Tag() != "!" && n.Tag() != "tag:yaml.org,2002:str") {  // quoted scalars stay strings
    if (text == "true" || text == "True") return true;
    if (text == "false" || text == "False") return false;
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(text.c_str(), &end, 10);
    if (!text.empty() && *end == '\0' && errno == 0) return static_cast<int64_t>(i);
    errno = 0;
    const double d = std::strtod(text.c_str(), &end);
    if (!text.empty() && *end == '\0' && errno == 0) return d;
  }
  return text;
}

ProblemSpec parse_problem_file(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw InputError("malformed problem file '" + path + "': " + e.msg + " (line " +
                     std::to_string(e.mark.line + 1) + ")");
  }
  const auto where = [&](const std::string& what) { return "problem file '" + path + "': " + what; };
  if (!root.IsMap()) throw InputError(where("expected a mapping with 'workload' and its settings"));
  ProblemSpec p;
  p.source = path;
  std::string stem =
      path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".yaml") == 0) stem.resize(stem.size() - 5);
  p.name = stem;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    if (!it->second.IsScalar()) throw InputError(where("'" + key + "' must be a single value"));
    if (key == "workload")
      p.workload = it->second.Scalar();
    else if (key == "description")
      p.description = it->second.Scalar();
    else
      p.settings[key] = scalar_to_json(it->second);
  }
  if (p.workload.empty()) throw InputError(where("missing 'workload' (quadratic, logreg or mlp)"));
  return p;
}

}  // namespace

ProblemSpec load_problem(const std::string& name_or_path, const std::string& exe_dir) {
  if (name_or_path.empty()) throw InputError("--problem needs a name or a .yaml file");
  const bool looks_like_path =
      name_or_path.find('/') != std::string::npos ||
      (name_or_path.size() > 5 && name_or_path.rfind(".yaml") == name_or_path.size() - 5);
  if (looks_like_path) {
    if (!is_regular_file(name_or_path))
      throw InputError("problem file '" + name_or_path + "' not found (or not a regular file)");
    return parse_problem_file(name_or_path);
  }
  for (const auto& dir : problem_dirs(exe_dir)) {
    const std::string p = dir + "/" + name_or_path + ".yaml";
    if (is_regular_file(p)) return parse_problem_file(p);
  }
  std::string known;
  for (const auto& n : shipped_problem_names(exe_dir))
    known += (known.empty() ? "" : ", ") + n;
  throw InputError("unknown problem '" + name_or_path + "' (shipped: " + (known.empty() ? "none" : known) +
                   "; or give a .yaml file)");
}

std::vector<std::string> shipped_problem_names(const std::string& exe_dir) {
  std::set<std::string> names;
  for (const auto& dir : problem_dirs(exe_dir)) {
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (const dirent* e = readdir(d)) {
      const std::string f = e->d_name;
      if (f.size() > 5 && f.compare(f.size() - 5, 5, ".yaml") == 0) names.insert(f.substr(0, f.size() - 5));
    }
    closedir(d);
  }
  return {names.begin(), names.end()};
}

ProblemReader::ProblemReader(const nlohmann::json& settings, std::string where)
    : settings_(settings), where_(std::move(where)) {}

void ProblemReader::fail(const std::string& key, const std::string& what) const {
  throw InputError("problem file '" + where_ + "': '" + key + "' " + what);
}

double ProblemReader::number(const std::string& key, double default_value, double min, double max) const {
  if (!settings_.contains(key)) return default_value;
  const auto& v = settings_.at(key);
  if (!v.is_number()) fail(key, "must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < min || d > max)
    fail(key, "must be in [" + shortest(min) + ", " + shortest(max) + "] (got " + shortest(d) + ")");
  return d;
}

double ProblemReader::required_number(const std::string& key, double min, double max) const {
  if (!settings_.contains(key)) fail(key, "is missing");
  return number(key, 0, min, max);
}

int64_t ProblemReader::integer(const std::string& key, int64_t default_value, int64_t min,
                               int64_t max) const {
  if (!settings_.contains(key)) return default_value;
  const auto& v = settings_.at(key);
  if (!v.is_number_integer()) fail(key, "must be an integer");
  const int64_t i = v.get<int64_t>();
  if (i < min || i > max)
    fail(key, "must be from " + std::to_string(min) + " to " + std::to_string(max) + " (got " +
                  std::to_string(i) + ")");
  return i;
}

std::string ProblemReader::text(const std::string& key, const std::string& default_value,
                                const std::vector<std::string>& allowed) const {
  if (!settings_.contains(key)) return default_value;
  const auto& v = settings_.at(key);
  if (!v.is_string()) fail(key, "must be a word");
  const std::string s = v.get<std::string>();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed)
      list += (list.empty() ? "" : ", ") + a;
    fail(key, "must be one of " + list + " (got '" + s + "')");
  }
  return s;
}

void ProblemReader::only(const std::vector<std::string>& known) const {
  for (auto it = settings_.begin(); it != settings_.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string list;
      for (const auto& k : known)
        list += (list.empty() ? "" : ", ") + k;
      throw InputError("problem file '" + where_ + "': unknown key '" + it.key() + "' (known: " + list + ")");
    }
}

}  // namespace nagbench
