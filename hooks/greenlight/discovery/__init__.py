"""Discovery: from a deployment id (CodeDeploy) or a service revision (ECS native) to green's whereabouts."""
