"""What the tests share: the E-utilities stand-in, XML and article builders, seeded stores."""
