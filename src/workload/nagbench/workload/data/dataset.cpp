#include "nagbench/workload/data/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "nagbench/core/errors.hpp"
#include "nagbench/core/random.hpp"

namespace nagbench::data {
namespace {

struct FileFormat {
  const char* name;
  const char* file;
  bool header;      // scikit-learn's "samples,features,class names..." first line
  int64_t samples;  // expected, when there is no header
  int64_t features;
  int classes;
};

// What scikit-learn's loaders (sklearn/datasets/_base.py) expect of the files.
constexpr FileFormat kFormats[] = {
    {"breast_cancer", "breast_cancer.csv", true, 0, 0, 2},
    {"digits", "digits.csv.gz", false, 1797, 64, 10},
};

// Reads a text file, gzip-compressed or plain (zlib's gzread passes plain files through), line by line.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path) {
    file_ = gzopen(path.c_str(), "rb");
    if (!file_)
      throw InputError("data file '" + path + "': cannot open (" +
                       (errno ? std::string(std::strerror(errno)) : std::string("zlib error")) +
                       "); install python3-sklearn or pass --data-dir");
  }
  ~LineReader() {
    if (file_) gzclose(file_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its end-of-line, false at the end of the file.
  bool next(std::string& line) {
    line.clear();
    char buf[4096];
    while (true) {
      if (!gzgets(file_, buf, sizeof buf)) {
        int err = 0;
        const char* msg = gzerror(file_, &err);
        if (err != Z_OK && err != Z_STREAM_END)
          throw InputError("data file '" + path_ + "': read error at line " + std::to_string(number_ + 1) +
                           " (" + msg + ")");
        if (line.empty()) return false;
        break;
      }
      line += buf;
      if (!line.empty() && line.back() == '\n') break;
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.pop_back();
    ++number_;
    if (line.size() > (1u << 20))
      throw InputError("data file '" + path_ + "': line " + std::to_string(number_) + " is over 1 MiB");
    return true;
  }
  int64_t line_number() const { return number_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
  int64_t number_ = 0;
};

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

double parse_number(const std::string& field, const std::string& where) {
  const char* b = field.c_str();
  while (*b == ' ')
    ++b;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(b, &end);
  while (end && *end == ' ')
    ++end;
  if (end == b || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw InputError(where + ": '" + field + "' is not a finite number");
  return v;
}

}  // namespace

std::string default_data_dir() {
  if (const char* env = std::getenv("NAGBENCH_DATA_DIR")) return env;
  return "/usr/lib/python3/dist-packages/sklearn/datasets/data";
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> n;
  for (const auto& f : kFormats)
    n.emplace_back(f.name);
  return n;
}

Dataset load(const std::string& name, const std::string& dir_in) {
  const FileFormat* fmt = nullptr;
  for (const auto& f : kFormats)
    if (name == f.name) fmt = &f;
  if (!fmt) {
    std::string known;
    for (const auto& n : dataset_names())
      known += (known.empty() ? "" : ", ") + n;
    throw InputError("unknown data set '" + name + "' (known: " + known + ")");
  }
  const std::string dir = dir_in.empty() ? default_data_dir() : dir_in;
  Dataset d;
  d.name = fmt->name;
  d.source = dir + "/" + fmt->file;
  d.classes = fmt->classes;
  LineReader in(d.source);
  std::string line;
  const auto where = [&]() {
    return "data file '" + d.source + "' line " + std::to_string(in.line_number());
  };
  int64_t expected_samples = fmt->samples;
  d.features = fmt->features;
  if (fmt->header) {
    if (!in.next(line)) throw InputError("data file '" + d.source + "' is empty");
    const auto h = split_fields(line);
    if (h.size() < 2) throw InputError(where() + ": expected a header 'samples,features,class names'");
    const double s = parse_number(h[0], where()), f = parse_number(h[1], where());
    if (s < 1 || f < 1 || s != std::floor(s) || f != std::floor(f) || s > 1e7 || f > 1e5)
      throw InputError(where() + ": header counts must be positive integers");
    expected_samples = static_cast<int64_t>(s);
    d.features = static_cast<int64_t>(f);
    if (static_cast<int>(h.size()) - 2 != d.classes)
      throw InputError(where() + ": header names " + std::to_string(h.size() - 2) + " classes, expected " +
                       std::to_string(d.classes));
  }
  d.x.reserve(static_cast<size_t>(expected_samples * d.features));
  while (in.next(line)) {
    if (line.empty()) continue;
    const auto fields = split_fields(line);
    if (static_cast<int64_t>(fields.size()) != d.features + 1)
      throw InputError(where() + ": " + std::to_string(fields.size()) + " fields, expected " +
                       std::to_string(d.features + 1) + " (features and the label)");
    for (int64_t j = 0; j < d.features; ++j)
      d.x.push_back(parse_number(fields[size_t(j)], where()));
    const double label = parse_number(fields.back(), where());
    if (label != std::floor(label) || label < 0 || label >= d.classes)
      throw InputError(where() + ": label '" + fields.back() + "' is not a class from 0 to " +
                       std::to_string(d.classes - 1));
    d.label.push_back(static_cast<int>(label));
    ++d.samples;
    if (d.samples > expected_samples)
      throw InputError("data file '" + d.source + "' has more than the " + std::to_string(expected_samples) +
                       " samples it should have");
  }
  if (d.samples != expected_samples)
    throw InputError("data file '" + d.source + "' has " + std::to_string(d.samples) + " samples, expected " +
                     std::to_string(expected_samples));
  return d;
}

void split(const Dataset& d, double test_fraction, uint64_t seed, Dataset& train, Dataset& test) {
  if (!(test_fraction >= 0 && test_fraction < 1))
    throw InputError("test fraction must be in [0, 1) (got " + std::to_string(test_fraction) + ")");
  std::vector<int64_t> order(static_cast<size_t>(d.samples));
  for (int64_t i = 0; i < d.samples; ++i)
    order[size_t(i)] = i;
  // Fisher-Yates with counter-based numbers: the same permutation everywhere for the same seed.
  const uint64_t stream = mix64(seed ^ 0x5eedda7a5e7ull);
  for (int64_t i = d.samples - 1; i > 0; --i) {
    const uint64_t r = mix64(stream + static_cast<uint64_t>(i));
    const int64_t j = static_cast<int64_t>(r % static_cast<uint64_t>(i + 1));
    std::swap(order[size_t(i)], order[size_t(j)]);
  }
  const int64_t n_test = static_cast<int64_t>(std::llround(test_fraction * double(d.samples)));
  const auto take = [&](Dataset& out, int64_t begin, int64_t end) {
    out = Dataset{};
    out.name = d.name;
    out.source = d.source;
    out.features = d.features;
    out.classes = d.classes;
    for (int64_t k = begin; k < end; ++k) {
      const int64_t i = order[size_t(k)];
      out.x.insert(out.x.end(), d.x.begin() + i * d.features, d.x.begin() + (i + 1) * d.features);
      out.label.push_back(d.label[size_t(i)]);
      ++out.samples;
    }
  };
  take(test, 0, n_test);
  take(train, n_test, d.samples);
}

void standardize(Dataset& train, Dataset& test) {
  const int64_t f = train.features;
  for (int64_t j = 0; j < f; ++j) {
    double mean = 0;
    for (int64_t i = 0; i < train.samples; ++i)
      mean += train.x[size_t(i * f + j)];
    mean /= double(std::max<int64_t>(train.samples, 1));
    double var = 0;
    for (int64_t i = 0; i < train.samples; ++i) {
      const double c = train.x[size_t(i * f + j)] - mean;
      var += c * c;
    }
    var /= double(std::max<int64_t>(train.samples, 1));
    const double sd = std::sqrt(var);
    for (Dataset* d : {&train, &test})
      for (int64_t i = 0; i < d->samples; ++i) {
        double& v = d->x[size_t(i * f + j)];
        v = sd > 0 ? (v - mean) / sd : v - mean;
      }
  }
}

}  // namespace nagbench::data
