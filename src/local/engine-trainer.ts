// Registers the "caffe" trainer kind (a Caffe solver on one partition) once the engine's solver lands.
export {}
