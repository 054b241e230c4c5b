#pragma once
// Real data sets for the workloads with an objective: scikit-learn's CSV files as Debian's python3-sklearn
// ships them (breast_cancer.csv: 569 x 30, two classes; digits.csv.gz: 1797 x 64, ten classes), read with a
// checked CSV reader (gzip through zlib, which reads plain files too), split into a training and a held-out
// test part with a seeded shuffle, and standardised with the training part's mean and deviation.
//
// Every rank reads the whole data set (they are small); which samples a rank uses in a step is the
// workload's business (workload.hpp: batches depend on the seed, the step and the global batch only).
#include <cstdint>
#include <string>
#include <vector>

namespace nagbench::data {

struct Dataset {
  std::string name;    // breast_cancer | digits
  std::string source;  // the file read
  int64_t samples = 0;
  int64_t features = 0;
  int classes = 0;         // number of classes (labels are 0 .. classes-1)
  std::vector<double> x;   // samples x features, row-major
  std::vector<int> label;  // one per sample
};

// The folder scikit-learn's data files are read from when --data-dir is not given.
std::string default_data_dir();
// The names load() knows.
std::vector<std::string> dataset_names();

// Reads data set `name` from `dir` ("" = default_data_dir()). Throws InputError naming the file, the line and
// what is wrong for a missing, unreadable or malformed file (a field that is not a number, a short row, a
// label out of range, a header whose counts disagree with the rows).
Dataset load(const std::string& name, const std::string& dir);

// Splits d into (train, test) with a seeded Fisher-Yates shuffle: the test part has round(fraction x
// samples) samples (0 <= fraction < 1). The same seed gives the same split on every rank and machine.
void split(const Dataset& d, double test_fraction, uint64_t seed, Dataset& train, Dataset& test);

// Standardises the features of train and test with train's per-feature mean and standard deviation
// (features with zero deviation are left centred, not divided).
void standardize(Dataset& train, Dataset& test);

}  // namespace nagbench::data
