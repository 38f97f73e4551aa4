/* placeholder until the module's first source lands */
typedef int ls_replay_placeholder_;
