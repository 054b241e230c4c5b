#include "nagbench/workload/model.hpp"

#include <yaml-cpp/yaml.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "nagbench/core/checked.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/core/provenance.hpp"

namespace nagbench {
namespace {

bool is_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Why `p` cannot be read as a model file, in words ("" when it is a readable regular file).
std::string unreadable_because(const std::string& p) {
  struct stat st;
  if (stat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return "not found";
    if (errno == ELOOP) return "a symbolic link loop";
    return std::strerror(errno);
  }
  if (S_ISDIR(st.st_mode)) return "a directory, not a file";
  if (S_ISFIFO(st.st_mode)) return "a FIFO, not a regular file";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device, not a regular file";
  if (S_ISSOCK(st.st_mode)) return "a socket, not a regular file";
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (access(p.c_str(), R_OK) != 0) return std::string("not readable: ") + std::strerror(errno);
  return "";
}

std::vector<std::string> model_dirs(const std::string& exe_dir) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("NAGBENCH_MODELS_DIR")) dirs.emplace_back(env);
  // share/nagbench/models beside the executable's bin/ (a build folder or an install, wherever it was
  // copied); the caller's idea of the executable's folder, or this process's own.
  const std::string bin = exe_dir.empty() ? executable_dir() : exe_dir;
  if (!bin.empty()) dirs.push_back(bin + "/../share/nagbench/models");
  return dirs;
}

ModelSpec parse_model_file_unchecked(const std::string& path) {
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
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const YAML::Node t = tensors[i];
    const std::string at = "tensor #" + std::to_string(i + 1);
    if (!t.IsMap() || !t["shape"] || !t["shape"].IsSequence() || t["shape"].size() == 0)
      throw InputError(where(at + " needs a non-empty 'shape' list"));
    TensorSpec spec;
    try {
      spec.name = t["name"] ? t["name"].as<std::string>() : at;
    } catch (const YAML::Exception&) {
      throw InputError(where(at + " has a 'name' that is not a string"));
    }
    if (spec.name.empty()) throw InputError(where(at + " has an empty 'name'"));
    if (!names.insert(spec.name).second)
      throw InputError(where(at + " repeats the tensor name '" + spec.name + "'"));
    int64_t numel = 1;
    if (t["shape"].size() > 16)
      throw InputError(where(at + " ('" + spec.name + "') has more than 16 dimensions"));
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
    m.params = checked_add(m.params, numel, where("the total number of parameters"));
    m.tensors.push_back(std::move(spec));
  }
  return m;
}

// Whatever yaml-cpp still throws (a conversion it could not do) is the file's fault: one line, status 2.
ModelSpec parse_model_file(const std::string& path) {
  try {
    return parse_model_file_unchecked(path);
  } catch (const YAML::Exception& e) {
    throw InputError("model file '" + path + "': " + e.msg + " (line " + std::to_string(e.mark.line + 1) +
                     ")");
  }
}

}  // namespace

ModelSpec load_model(const std::string& name_or_path, const std::string& exe_dir) {
  if (name_or_path.empty()) throw InputError("empty model name");
  const bool looks_like_path = name_or_path.find('/') != std::string::npos ||
                               name_or_path.find(".yaml") != std::string::npos ||
                               name_or_path.find(".yml") != std::string::npos;
  if (looks_like_path) {
    const std::string why = unreadable_because(name_or_path);
    if (!why.empty())
      throw InputError("model file '" + name_or_path + "' is " + (why == "not found" ? "not found" : why));
    return parse_model_file(name_or_path);
  }
  {
    // A bare name that exists on disk as something other than a file is most likely a mistaken path.
    struct stat st;
    if (lstat(name_or_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      const std::string why = unreadable_because(name_or_path);
      if (!why.empty() && why != "not found")
        throw InputError("model '" + name_or_path + "' is " + why + " (give a shipped name or a .yaml file)");
    }
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
