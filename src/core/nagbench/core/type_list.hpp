#pragma once
// Compile-time lists of types (execution spaces, update rules, workloads, comm backends) and the two things
// done with them: call a function once per type, and pick the type whose name matches a run-time string.
#include <string>
#include <utility>

namespace nagbench {

template <class... T>
struct TypeList {};

// A value standing for a type, so generic lambdas can receive it: f(Tag<T>{}) then `typename
// decltype(t)::type`.
template <class T>
struct Tag {
  using type = T;
};

template <class... T, class F>
void for_each_type(TypeList<T...>, F&& f) {
  (f(Tag<T>{}), ...);
}

// Calls f(Tag<T>{}) for the first T of the list with name_of(Tag<T>{}) == name; returns false when none
// matches.
template <class... T, class NameOf, class F>
bool with_named_type(TypeList<T...>, const std::string& name, NameOf&& name_of, F&& f) {
  bool found = false;
  const auto try_one = [&](auto tag) {
    if (!found && name == name_of(tag)) {
      found = true;
      f(tag);
    }
  };
  (try_one(Tag<T>{}), ...);
  return found;
}

}  // namespace nagbench
