/* placeholder until the module's first source lands */
typedef int ls_trace_placeholder_;
