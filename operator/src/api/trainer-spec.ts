import { z } from "zod";

// DRAFT: mirrors the trainer's spec file; replaced field for field once trainer/ lands.
export const trainerSpecShape = {
  name: z.string().optional().describe("Model name recorded in the model card."),
};
