// Registers every layer type with the registry: the core set (engine owner) and the extra set
// (second layer author), kept in separate files so the two never edit the same list.
import "./register-core.js"
import "./register-extra.js"
import "./register-data-layers.js"

export {}
