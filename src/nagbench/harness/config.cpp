#include "nagbench/harness/config.hpp"

#include "nagbench/core/errors.hpp"
#include "nagbench/optim/dtype.hpp"
#include "nagbench/optim/variants/variant.hpp"

namespace nagbench {

nlohmann::json to_json(const Config& c) {
  const auto& h = c.hyper;
  return {{"backend", c.backend},
          {"model", to_json(c.model)},
          {"variant", c.variant},
          {"dtype", c.dtype},
          {"hyper",
           {{"lr", h.lr},
            {"momentum", h.momentum},
            {"dampening", h.dampening},
            {"weight_decay", h.weight_decay},
            {"nesterov", h.nesterov},
            {"maximize", h.maximize}}},
          {"steps", c.steps},
          {"warmup", c.warmup},
          {"seed", c.seed},
          {"verify", c.verify},
          {"roof_mib", c.roof_mib},
          {"roof_reps", c.roof_reps},
          {"output", c.output},
          {"quiet", c.quiet},
          {"command_line", c.command_line}};
}

Config config_from_json(const nlohmann::json& j) {
  Config c;
  c.backend = j.at("backend");
  c.model = model_from_json(j.at("model"));
  c.variant = j.at("variant");
  c.dtype = j.at("dtype");
  const auto& h = j.at("hyper");
  c.hyper.lr = h.at("lr");
  c.hyper.momentum = h.at("momentum");
  c.hyper.dampening = h.at("dampening");
  c.hyper.weight_decay = h.at("weight_decay");
  c.hyper.nesterov = h.at("nesterov");
  c.hyper.maximize = h.at("maximize");
  c.steps = j.at("steps");
  c.warmup = j.at("warmup");
  c.seed = j.at("seed");
  c.verify = j.at("verify");
  c.roof_mib = j.at("roof_mib");
  c.roof_reps = j.at("roof_reps");
  c.output = j.at("output");
  c.quiet = j.at("quiet");
  c.command_line = j.at("command_line");
  return c;
}

void validate(const Config& c) {
  c.hyper.validate();
  const DtypeLayout d = parse_dtype(c.dtype);
  check_variant(c.variant, d);
  if (c.steps <= 0) throw InputError("--steps must be > 0 (got " + std::to_string(c.steps) + ")");
  if (c.warmup < 0) throw InputError("--warmup must be >= 0 (got " + std::to_string(c.warmup) + ")");
  if (c.roof_mib < 0) throw InputError("--roof-mib must be >= 0");
  if (c.roof_reps <= 0) throw InputError("--roof-reps must be > 0");
  if (c.verify != "auto" && c.verify != "full" && c.verify != "sample" && c.verify != "off")
    throw InputError("--verify must be auto, full, sample or off (got '" + c.verify + "')");
  if (c.model.params <= 0) throw InputError("model '" + c.model.name + "' has no parameters");
}

}  // namespace nagbench
