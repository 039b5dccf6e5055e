"""Vision-language-action policy: model, data, training, evaluation (ROS-free), and the node.

Public entry points (torch is imported only when these modules are):

* ``embodied_stack.vla.policy.VLAPolicy`` - load a checkpoint, ``predict_chunk(images, state, instruction)``;
* ``embodied_stack.vla.policy.TemporalEnsembler`` - blend overlapping chunks into per-step actions;
* ``embodied_stack.vla.train.train(cfg)`` - behaviour cloning from LeRobotDatasets;
* ``embodied_stack.vla.runner.PolicyRunner`` - the node's execution rules (chunks, clamps, staleness);
* ``embodied_stack.vla.rollout.rollout`` - the one simulated rollout loop over that runner (evaluation,
  DAgger, closed-loop tests);
* ``embodied_stack.vla.evaluate.evaluate_checkpoint(path, suite, episodes, seed)``;
* ``embodied_stack.vla.language.normalise_instruction`` / ``InstructionEncoder``.
"""
