"""A set encoder over people for SB3 policies: one model for any number of people (0 to ``max_people``).

Why attention: CrowdNav-family models with an LSTM or a fixed-width MLP over people must be retrained
when the crowd size changes (a frequent complaint of their users). Here every person is embedded by the
same network (conditioned on the robot's state, as SARL does), padding is masked out, and the robot
state attends over the people, so the output has a fixed size whatever the count. A learned "nobody"
token keeps the softmax defined in an empty scene. An optional scan branch sees walls.

Named in an RL config as ``features_extractor: embodied_stack.navigation.policy:CrowdAttentionExtractor``.
"""

from __future__ import annotations

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

POSITION_SCALE = 4.0  # m: inputs are divided by this so typical values are O(1)


class CrowdAttentionExtractor(BaseFeaturesExtractor):
    """Features = [robot embedding, attention-pooled people, scan embedding].

    embed_dim: width of the robot / person embeddings (64 is SARL's size and trains in minutes).
    """

    def __init__(self, observation_space: spaces.Dict, embed_dim: int = 64) -> None:
        robot_dim = observation_space["robot"].shape[0]
        person_dim = observation_space["people"].shape[1]
        scan_dim = observation_space["scan"].shape[0] if "scan" in observation_space.spaces else 0
        scan_out = embed_dim if scan_dim else 0
        super().__init__(observation_space, features_dim=2 * embed_dim + scan_out)
        self.robot_mlp = nn.Sequential(nn.Linear(robot_dim, embed_dim), nn.ReLU(),
                                       nn.Linear(embed_dim, embed_dim), nn.ReLU())
        self.person_mlp = nn.Sequential(nn.Linear(person_dim + robot_dim, embed_dim), nn.ReLU(),
                                        nn.Linear(embed_dim, embed_dim), nn.ReLU())
        self.query = nn.Linear(embed_dim, embed_dim)
        self.key = nn.Linear(embed_dim, embed_dim)
        self.value = nn.Linear(embed_dim, embed_dim)
        self.nobody = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.scan_mlp = (nn.Sequential(nn.Linear(scan_dim, embed_dim), nn.ReLU()) if scan_dim else None)
        self.scale = embed_dim**-0.5

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        robot = obs["robot"] / POSITION_SCALE
        people = obs["people"] / POSITION_SCALE
        mask = obs["people_mask"] > 0.5  # (B, N)
        b, n, _ = people.shape
        r = self.robot_mlp(robot)
        e = self.person_mlp(torch.cat([people, robot[:, None, :].expand(b, n, robot.shape[1])], dim=2))
        e = torch.cat([self.nobody.expand(b, 1, -1), e], dim=1)  # (B, N+1, E)
        keep = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=mask.device), mask], dim=1)
        scores = torch.einsum("be,bne->bn", self.query(r), self.key(e)) * self.scale
        weights = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=1)
        pooled = torch.einsum("bn,bne->be", weights, self.value(e))
        parts = [r, pooled]
        if self.scan_mlp is not None:
            parts.append(self.scan_mlp(obs["scan"]))
        return torch.cat(parts, dim=1)
