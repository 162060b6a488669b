// Placeholder entry until the CLI commands land; replaced by the command dispatcher.
console.error("deepspark: no commands yet")
process.exit(2)
